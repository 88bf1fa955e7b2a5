package dev.banger.image.bundle;

/** A bundle that cannot be written or that is refused on reading; the message is one line for people. */
public final class BundleException extends RuntimeException {

    public BundleException(String message) {
        super(message);
    }

    public BundleException(String message, Throwable cause) {
        super(message, cause);
    }
}
