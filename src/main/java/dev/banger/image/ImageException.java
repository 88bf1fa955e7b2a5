package dev.banger.image;

/**
 * An image could not be pulled, flattened or built. The message names the input at fault (reference, layer,
 * entry, blob digest) and, where there is one, what to do. Subclasses say which stage failed.
 */
public class ImageException extends RuntimeException {

    public ImageException(String message) {
        super(message);
    }

    public ImageException(String message, Throwable cause) {
        super(message, cause);
    }
}
