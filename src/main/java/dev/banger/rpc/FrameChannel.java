package dev.banger.rpc;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * Length-prefixed frames over a blocking socket channel: a 4-byte big-endian length, then that many bytes.
 *
 * <p>Reads and writes go straight to the channel (not through {@code Channels.newInputStream}, whose streams
 * share one lock on Java 17 and deadlock under concurrent read and write). One thread may read while another
 * writes; writes are serialised.
 */
public final class FrameChannel implements Closeable {

    /** Largest frame either side accepts. */
    public static final int MAX_FRAME = 4 * 1024 * 1024;

    private final SocketChannel channel;
    private final Object writeLock = new Object();
    private final ByteBuffer header = ByteBuffer.allocate(4);

    public FrameChannel(SocketChannel channel) {
        this.channel = channel;
    }

    public SocketChannel channel() {
        return channel;
    }

    /**
     * Reads the next frame.
     *
     * @return the frame's bytes, or null when the peer closed cleanly between frames
     * @throws FrameException when the length is out of range or the peer closed mid-frame
     */
    public byte[] read() throws IOException {
        header.clear();
        if (!readFully(header, true)) {
            return null;
        }
        int length = header.getInt(0);
        if (length <= 0 || length > MAX_FRAME) {
            throw new FrameException("frame length " + Integer.toUnsignedString(length)
                    + " is outside 1.." + MAX_FRAME + " bytes");
        }
        ByteBuffer body = ByteBuffer.allocate(length);
        readFully(body, false);
        return body.array();
    }

    /** Writes one frame; safe to call from several threads. */
    public void write(byte[] frame) throws IOException {
        if (frame.length == 0 || frame.length > MAX_FRAME) {
            throw new FrameException("refusing to send a frame of " + frame.length + " bytes (limit "
                    + MAX_FRAME + ")");
        }
        ByteBuffer len = ByteBuffer.allocate(4).putInt(0, frame.length);
        ByteBuffer body = ByteBuffer.wrap(frame);
        synchronized (writeLock) {
            ByteBuffer[] both = {len, body};
            while (body.hasRemaining()) {
                channel.write(both);
            }
        }
    }

    private boolean readFully(ByteBuffer buffer, boolean eofAllowedAtStart) throws IOException {
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer);
            if (n < 0) {
                if (eofAllowedAtStart && buffer.position() == 0) {
                    return false;
                }
                throw new FrameException("connection closed in the middle of a frame ("
                        + buffer.position() + " of " + buffer.capacity() + " bytes read)");
            }
        }
        return true;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
