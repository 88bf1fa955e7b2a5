package dev.banger.image.rootfs;

import dev.banger.image.ImageException;

/** A flattened tree could not be finalised or built into an ext4 root disk. */
public final class RootfsException extends ImageException {

    public RootfsException(String message) {
        super(message);
    }

    public RootfsException(String message, Throwable cause) {
        super(message, cause);
    }
}
