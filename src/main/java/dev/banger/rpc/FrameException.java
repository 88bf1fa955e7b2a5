package dev.banger.rpc;

import java.io.IOException;

/** A frame could not be read: truncated, oversized, or the peer closed mid-frame. */
public final class FrameException extends IOException {
    public FrameException(String message) {
        super(message);
    }
}
