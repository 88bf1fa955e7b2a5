package dev.banger.image.layer;

import dev.banger.image.ImageException;

/** A path inside a {@link StagingTree} cannot be used without following a symlink or leaving the tree. */
public final class UnsafePathException extends ImageException {

    private final String reason;

    public UnsafePathException(String path, String reason) {
        super("unsafe path '" + path + "' in the image: " + reason);
        this.reason = reason;
    }

    /** The reason alone, without the path. */
    public String reason() {
        return reason;
    }
}
