package dev.banger.guest;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * The agent behind Firecracker's hybrid vsock: connect to the VMM's Unix socket, send {@code CONNECT <port>\n},
 * read {@code OK <hostport>\n}, and the socket is then the stream to the guest's AF_VSOCK listener. While the
 * guest is not listening, Firecracker closes the connection instead of answering, so {@link #open} retries under
 * a {@link RetryPolicy} (interval, per-attempt timeout, overall deadline).
 */
public final class FirecrackerVsockTransport implements AgentTransport {

    private static final int MAX_ANSWER = 64;

    private final Path udsPath;
    private final int port;
    private final RetryPolicy retry;

    public FirecrackerVsockTransport(Path udsPath, int port, RetryPolicy retry) {
        this.udsPath = Objects.requireNonNull(udsPath, "udsPath");
        this.retry = Objects.requireNonNull(retry, "retry");
        if (port < 0) {
            throw new IllegalArgumentException("vsock port must not be negative: " + port);
        }
        this.port = port;
    }

    /**
     * Opens the stream, retrying for at most the shorter of {@code timeout} and the policy's overall timeout.
     *
     * @throws AgentException when every attempt failed; the message has the socket, port, attempts and last error
     */
    @Override
    public SocketChannel open(Duration timeout) throws IOException {
        Duration limit = timeout.compareTo(retry.overallTimeout()) < 0 ? timeout : retry.overallTimeout();
        long deadline = System.nanoTime() + limit.toNanos();
        int attempts = 0;
        IOException last;
        while (true) {
            attempts++;
            long attemptNanos = Math.min(retry.attemptTimeout().toNanos(), Math.max(0, deadline - System.nanoTime()));
            try {
                return attempt(Math.max(attemptNanos, 1_000_000));
            } catch (IOException e) {
                last = e;
            }
            long sleepNanos = retry.retryInterval().toNanos();
            if (System.nanoTime() + sleepNanos >= deadline) {
                break;
            }
            try {
                Thread.sleep(sleepNanos / 1_000_000, (int) (sleepNanos % 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AgentException("interrupted while connecting to " + describe(), e);
            }
        }
        throw new AgentException("vsock port " + port + " behind " + udsPath + " did not accept a connection within "
                + limit.toMillis() + " ms (" + attempts + " attempts); last error: " + last.getMessage(), last);
    }

    private SocketChannel attempt(long timeoutNanos) throws IOException {
        SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        boolean ok = false;
        try {
            channel.connect(UnixDomainSocketAddress.of(udsPath));
            channel.configureBlocking(false);
            long deadline = System.nanoTime() + timeoutNanos;
            try (Selector selector = Selector.open()) {
                ByteBuffer request = ByteBuffer.wrap(("CONNECT " + port + "\n").getBytes(StandardCharsets.US_ASCII));
                SelectionKey key = channel.register(selector, SelectionKey.OP_WRITE);
                while (request.hasRemaining()) {
                    channel.write(request);
                    if (request.hasRemaining()) {
                        await(selector, deadline, "sending CONNECT");
                    }
                }
                key.interestOps(SelectionKey.OP_READ);
                String answer = readLine(channel, selector, deadline);
                if (!answer.startsWith("OK ")) {
                    throw new IOException("unexpected answer to CONNECT " + port + ": \"" + answer + "\"");
                }
            }
            // The selector is closed, so the channel is deregistered and may block again.
            channel.configureBlocking(true);
            ok = true;
            return channel;
        } finally {
            if (!ok) {
                channel.close();
            }
        }
    }

    /** Reads up to and excluding '\n', one byte at a time so nothing after the answer is consumed. */
    private static String readLine(SocketChannel channel, Selector selector, long deadline) throws IOException {
        ByteBuffer one = ByteBuffer.allocate(1);
        StringBuilder line = new StringBuilder();
        while (true) {
            one.clear();
            int n = channel.read(one);
            if (n < 0) {
                throw new IOException("connection closed before the answer to CONNECT (guest not listening yet?)"
                        + (line.length() > 0 ? " after \"" + line + "\"" : ""));
            }
            if (n == 0) {
                await(selector, deadline, "waiting for the answer to CONNECT");
                continue;
            }
            char c = (char) (one.get(0) & 0xFF);
            if (c == '\n') {
                return line.toString();
            }
            if (line.length() >= MAX_ANSWER) {
                throw new IOException("answer to CONNECT is too long: \"" + line + "...\"");
            }
            line.append(c);
        }
    }

    private static void await(Selector selector, long deadline, String what) throws IOException {
        long remaining = deadline - System.nanoTime();
        if (remaining <= 0) {
            throw new IOException("timed out " + what);
        }
        selector.select(Math.max(1, remaining / 1_000_000));
        selector.selectedKeys().clear();
    }

    @Override
    public String describe() {
        return "vsock:" + udsPath + ":" + port;
    }
}
