package dev.banger.guest;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.GatheringByteChannel;

/** Writes whole frames; safe for many threads (one frame at a time goes onto the stream). */
final class FrameWriter {

    private final GatheringByteChannel channel;
    private final Object lock = new Object();

    FrameWriter(GatheringByteChannel channel) {
        this.channel = channel;
    }

    void write(int type, int ch, byte[] payload) throws IOException {
        write(type, ch, payload, 0, payload.length);
    }

    void write(int type, int ch, byte[] payload, int off, int len) throws IOException {
        if (len > FrameType.MAX_PAYLOAD) {
            throw new IllegalArgumentException("frame payload of " + len + " bytes is over the protocol's limit");
        }
        ByteBuffer header = ByteBuffer.allocate(FrameType.HEADER_LENGTH);
        header.put(FrameType.MAGIC0).put(FrameType.MAGIC1).put((byte) type).put((byte) 0).putInt(ch).putInt(len);
        header.flip();
        ByteBuffer[] parts = {header, ByteBuffer.wrap(payload, off, len)};
        synchronized (lock) {
            while (parts[0].hasRemaining() || parts[1].hasRemaining()) {
                channel.write(parts);
            }
        }
    }

    /** Writes raw bytes between frames (the resynchronisation padding). */
    void writeRaw(byte[] bytes) throws IOException {
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        synchronized (lock) {
            while (buf.hasRemaining()) {
                channel.write(buf);
            }
        }
    }
}
