package dev.banger.image.registry;

import dev.banger.image.ImageException;

/** A blob's content does not hash to the digest its descriptor promised; nothing of it was kept. */
public final class UnexpectedBlobDigestException extends ImageException {

    public UnexpectedBlobDigestException(String what, Digest expected, Digest actual) {
        super(what + ": content digest is " + actual + ", expected " + expected
                + "; the source is corrupt or was tampered with, nothing of this blob was kept");
    }
}
