package dev.banger.guest;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;

/**
 * Reads frames from a stream, for one thread. Bytes before a frame's magic are skipped (a stream reused after a
 * reconnect may start mid-frame); a frame longer than the protocol allows is an error, since the agent never
 * sends one.
 */
final class FrameReader {

    private final ReadableByteChannel channel;
    private final ByteBuffer header = ByteBuffer.allocate(FrameType.HEADER_LENGTH);
    private long skippedBytes;

    FrameReader(ReadableByteChannel channel) {
        this.channel = channel;
    }

    /** The next frame, or null when the stream ends between frames. */
    Frame read() throws IOException {
        header.clear();
        if (!fill(header)) {
            if (header.position() == 0) {
                return null;
            }
            throw new EOFException("guest agent connection ended inside a frame header");
        }
        while (header.get(0) != FrameType.MAGIC0 || header.get(1) != FrameType.MAGIC1) {
            // Slide by one byte and read one more: slow, but only ever on garbage.
            skippedBytes++;
            header.position(1);
            header.compact();
            if (!fill(header)) {
                return null;
            }
        }
        int type = header.get(2) & 0xFF;
        int ch = header.getInt(4);
        int length = header.getInt(8);
        if (length < 0 || length > FrameType.MAX_PAYLOAD) {
            throw new AgentException("guest agent sent a " + FrameType.name(type) + " frame of "
                    + Integer.toUnsignedString(length) + " bytes, over the protocol's limit of "
                    + FrameType.MAX_PAYLOAD);
        }
        ByteBuffer payload = ByteBuffer.allocate(length);
        if (!fill(payload)) {
            throw new EOFException("guest agent connection ended inside a " + FrameType.name(type) + " frame");
        }
        return new Frame(type, ch, payload.array());
    }

    /** Bytes skipped so far while looking for a frame's magic. */
    long skippedBytes() {
        return skippedBytes;
    }

    /** Reads until buf is full; false when the stream ended first. */
    private boolean fill(ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            if (channel.read(buf) < 0) {
                return false;
            }
        }
        return true;
    }
}
