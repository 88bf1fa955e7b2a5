package dev.banger.kernel;

/** {@code kernel pull} could not obtain a kernel package from the host's package manager. */
public final class KernelFetchException extends KernelException {

    public KernelFetchException(String message) {
        super(message);
    }

    public KernelFetchException(String message, Throwable cause) {
        super(message, cause);
    }
}
