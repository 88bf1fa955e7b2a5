package dev.banger.guest;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A frame-level test connection to the agent: sends whatever bytes a test wants and collects every frame the
 * agent sends on a background thread (so the agent is never blocked on us).
 */
final class RawConnection implements AutoCloseable {

    private final SocketChannel socket;
    private final FrameWriter writer;
    private final BlockingQueue<Frame> frames = new LinkedBlockingQueue<>();
    private final Thread reader;

    RawConnection(SocketChannel socket) {
        this.socket = socket;
        this.writer = new FrameWriter(socket);
        this.reader = new Thread(() -> {
            FrameReader in = new FrameReader(socket);
            try {
                Frame f;
                while ((f = in.read()) != null) {
                    frames.add(f);
                }
            } catch (IOException e) {
                // The test closed the socket or the agent went away.
            }
        }, "raw-agent-reader");
        reader.setDaemon(true);
        reader.start();
    }

    void send(int type, int channel, byte[] payload) throws IOException {
        writer.write(type, channel, payload);
    }

    void send(int type, int channel, String json) throws IOException {
        send(type, channel, json.getBytes(StandardCharsets.UTF_8));
    }

    void sendRaw(byte[] bytes) throws IOException {
        writer.writeRaw(bytes);
    }

    /** Sends HELLO and returns the agent's reply, skipping anything before it. */
    Frame hello() throws IOException, InterruptedException {
        send(FrameType.HELLO, 0, "{\"protocol\":1}");
        return next(f -> f.type() == FrameType.HELLO, Duration.ofSeconds(10));
    }

    /** The next frame matching the test (earlier non-matching ones are dropped). */
    Frame next(java.util.function.Predicate<Frame> test, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            Frame f = left > 0 ? frames.poll(left, TimeUnit.NANOSECONDS) : null;
            if (f == null) {
                throw new AssertionError("no matching frame within " + timeout);
            }
            if (test.test(f)) {
                return f;
            }
        }
    }

    /** The next frame on a channel (others dropped). */
    Frame nextOn(int channel) throws InterruptedException {
        return next(f -> f.channel() == channel, Duration.ofSeconds(10));
    }

    /** A frame that arrives within the timeout, or null. */
    Frame poll(Duration timeout) throws InterruptedException {
        return frames.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    static byte[] u32(int v) {
        return ByteBuffer.allocate(4).putInt(v).array();
    }

    @Override
    public void close() throws IOException, InterruptedException {
        socket.close();
        reader.join(2000);
    }
}
