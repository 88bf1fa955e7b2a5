package dev.banger.rpc;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.function.IntFunction;

/**
 * Frames over a blocking socket channel: a 4-byte big-endian header, then that many bytes. The header's top bit
 * says what the bytes are: clear, a JSON message (request, response, input); set, a data frame, raw bytes of the
 * call's stream (client to daemon: its input, as {@link Input#data}; daemon to client: its output, as
 * {@code Event.Output} on stdout), so bulk data ({@code vm cp}) moves without base64 or JSON. The other 31 bits
 * are the length, 1 to {@link #MAX_FRAME}.
 *
 * <p>Reads and writes go straight to the channel (not through {@code Channels.newInputStream}, whose streams
 * share one lock on Java 17 and deadlock under concurrent read and write). One thread may read while another
 * writes; writes are serialised.
 */
public final class FrameChannel implements Closeable {

    /** Largest frame either side accepts. */
    public static final int MAX_FRAME = 4 * 1024 * 1024;
    /** The header bit that marks a data frame. */
    static final int DATA_BIT = 0x8000_0000;

    /**
     * One frame as read: a JSON message, or a data frame's bytes, {@code length} of them at the start of
     * {@code bytes} (all of it unless the frame was read into a larger buffer, {@link #read(IntFunction)}).
     */
    public record Frame(boolean data, byte[] bytes, int length) {
    }

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
     * @return the frame, or null when the peer closed cleanly between frames
     * @throws FrameException when the length is out of range or the peer closed mid-frame
     */
    public Frame read() throws IOException {
        return read(byte[]::new);
    }

    /**
     * As {@link #read()}, a data frame's bytes read into {@code dataBuffer.apply(length)}, a buffer at least that
     * long that the caller may reuse (bulk output then needs no new array per frame, whose fresh memory costs
     * more than the copy); a JSON message still gets an array of its own.
     */
    public Frame read(IntFunction<byte[]> dataBuffer) throws IOException {
        header.clear();
        if (!readFully(header, true)) {
            return null;
        }
        int word = header.getInt(0);
        int length = word & ~DATA_BIT;
        if (length == 0 || length > MAX_FRAME) {
            throw new FrameException("frame length " + length + " is outside 1.." + MAX_FRAME + " bytes");
        }
        boolean data = (word & DATA_BIT) != 0;
        byte[] into = data ? dataBuffer.apply(length) : new byte[length];
        if (into.length < length) {
            throw new IllegalArgumentException("a buffer of " + into.length + " bytes for a frame of " + length);
        }
        readFully(ByteBuffer.wrap(into, 0, length), false);
        return new Frame(data, into, length);
    }

    /**
     * Reads the next frame, which must be a JSON message.
     *
     * @return its bytes, or null when the peer closed cleanly between frames
     * @throws FrameException for a data frame, a length out of range, or a peer that closed mid-frame
     */
    public byte[] readMessage() throws IOException {
        Frame frame = read();
        if (frame != null && frame.data()) {
            throw new FrameException("a data frame of " + frame.bytes().length + " bytes where a JSON message "
                    + "was expected");
        }
        return frame == null ? null : frame.bytes();
    }

    /** Writes one JSON message frame; safe to call from several threads. */
    public void write(byte[] message) throws IOException {
        write(0, message, 0, message.length);
    }

    /** Writes {@code len} bytes of {@code data} as one data frame; safe to call from several threads. */
    public void writeData(byte[] data, int off, int len) throws IOException {
        write(DATA_BIT, data, off, len);
    }

    private void write(int kind, byte[] bytes, int off, int len) throws IOException {
        if (len <= 0 || len > MAX_FRAME) {
            throw new FrameException("refusing to send a frame of " + len + " bytes (limit " + MAX_FRAME + ")");
        }
        ByteBuffer head = ByteBuffer.allocate(4).putInt(0, kind | len);
        ByteBuffer body = ByteBuffer.wrap(bytes, off, len);
        synchronized (writeLock) {
            ByteBuffer[] both = {head, body};
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
                        + buffer.position() + " of " + buffer.limit() + " bytes read)");
            }
        }
        return true;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
