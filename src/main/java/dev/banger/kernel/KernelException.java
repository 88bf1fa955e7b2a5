package dev.banger.kernel;

/** A kernel could not be imported, fetched or prepared for boot; the message says which input and what to do. */
public class KernelException extends RuntimeException {

    public KernelException(String message) {
        super(message);
    }

    public KernelException(String message, Throwable cause) {
        super(message, cause);
    }
}
