package dev.banger.image.registry;

import dev.banger.image.ImageException;

/** A manifest, index or image config is malformed, of an unsupported kind, or has no linux/amd64 image. */
public class ManifestException extends ImageException {

    public ManifestException(String message) {
        super(message);
    }

    public ManifestException(String message, Throwable cause) {
        super(message, cause);
    }
}
