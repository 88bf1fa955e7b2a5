package dev.banger.image.registry;

import dev.banger.image.ImageException;

/** A blob is longer or shorter than its descriptor said; nothing of it was kept. */
public final class UnexpectedBlobSizeException extends ImageException {

    public UnexpectedBlobSizeException(String what, long expected, long actual, boolean atLeast) {
        super(what + ": content is " + (atLeast ? "at least " : "") + actual + " bytes, expected " + expected
                + "; the source is corrupt or was tampered with, nothing of this blob was kept");
    }
}
