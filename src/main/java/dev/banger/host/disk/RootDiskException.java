package dev.banger.host.disk;

/** A root disk could not be provisioned or released; the message names the input and what to do. */
public class RootDiskException extends RuntimeException {

    public RootDiskException(String message) {
        super(message);
    }

    public RootDiskException(String message, Throwable cause) {
        super(message, cause);
    }
}
