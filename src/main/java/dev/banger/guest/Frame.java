package dev.banger.guest;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** One protocol frame: type, channel and payload (never null; empty when the frame has none). */
record Frame(int type, int channel, byte[] payload) {

    int u32() {
        return ByteBuffer.wrap(payload).getInt();
    }

    String text() {
        return new String(payload, StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return FrameType.name(type) + "[ch=" + Integer.toUnsignedString(channel) + ", " + payload.length + " bytes]";
    }
}
