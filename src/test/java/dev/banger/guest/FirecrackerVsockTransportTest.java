package dev.banger.guest;

import dev.banger.testkit.AgentProcess;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The hybrid-vsock dialer against a fake Firecracker socket that refuses (closes) the first connections, as
 * Firecracker does while nothing in the guest listens on the port, then answers OK and proxies to a real agent.
 */
@Timeout(value = 20, unit = TimeUnit.SECONDS)
class FirecrackerVsockTransportTest {

    private static final RetryPolicy FAST =
            new RetryPolicy(Duration.ofMillis(20), Duration.ofMillis(500), Duration.ofSeconds(5));

    @TempDir
    Path dir;

    private AgentProcess agent;
    private volatile FakeFirecracker firecracker;

    @BeforeEach
    void start() throws Exception {
        agent = AgentProcess.start(dir);
    }

    @AfterEach
    void stop() throws Exception {
        if (firecracker != null) {
            firecracker.close();
        }
        if (agent != null) {
            agent.close();
        }
    }

    @Test
    void open_retriesWhileTheGuestIsNotListeningThenSpeaksToTheAgent() throws Exception {
        firecracker = new FakeFirecracker(dir.resolve("v.sock"), agent.socket(), 3, false);
        FirecrackerVsockTransport transport = new FirecrackerVsockTransport(dir.resolve("v.sock"), 1024, FAST);

        try (AgentClient client = AgentClient.connect(transport, Duration.ofSeconds(5))) {
            assertThat(client.ping().protocol()).isEqualTo(1);
            ExecProcess p = client.exec(ExecSpec.of("echo", "through vsock"));
            assertThat(new String(p.stdout().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("through vsock\n");
        }
        assertThat(firecracker.attempts.get()).as("3 refused, then accepted").isEqualTo(4);
        assertThat(firecracker.requests).allMatch("CONNECT 1024"::equals);
    }

    @Test
    void open_retriesWhenTheVmmDoesNotAnswerInTime() throws Exception {
        firecracker = new FakeFirecracker(dir.resolve("v.sock"), agent.socket(), 2, true);
        RetryPolicy policy = new RetryPolicy(Duration.ofMillis(20), Duration.ofMillis(150), Duration.ofSeconds(5));

        try (AgentClient client = AgentClient.connect(
                new FirecrackerVsockTransport(dir.resolve("v.sock"), 1024, policy), Duration.ofSeconds(5))) {
            assertThat(client.ping().protocol()).isEqualTo(1);
        }
        assertThat(firecracker.attempts.get()).isEqualTo(3);
    }

    @Test
    void open_givesUpAtTheOverallTimeoutNamingSocketPortAndAttempts() throws Exception {
        firecracker = new FakeFirecracker(dir.resolve("v.sock"), agent.socket(), Integer.MAX_VALUE, false);
        RetryPolicy policy = new RetryPolicy(Duration.ofMillis(50), Duration.ofMillis(200), Duration.ofMillis(600));
        long start = System.nanoTime();

        assertThatThrownBy(() -> new FirecrackerVsockTransport(dir.resolve("v.sock"), 1024, policy)
                .open(Duration.ofSeconds(10)))
                .isInstanceOf(AgentException.class)
                .hasMessageContaining("vsock port 1024 behind " + dir.resolve("v.sock"))
                .hasMessageContaining("attempts");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isBetween(Duration.ofMillis(500),
                Duration.ofSeconds(3));
    }

    @Test
    void open_retriesUntilTheVmmSocketExists() throws Exception {
        Path uds = dir.resolve("later.sock");
        Thread later = new Thread(() -> {
            try {
                Thread.sleep(300);
                firecracker = new FakeFirecracker(uds, agent.socket(), 0, false);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        later.start();

        try (SocketChannel ch = new FirecrackerVsockTransport(uds, 1024, FAST).open(Duration.ofSeconds(5))) {
            assertThat(ch.isConnected()).isTrue();
            assertThat(ch.isBlocking()).isTrue();
        }
    }

    /** Stands in for Firecracker's vsock Unix socket. */
    static final class FakeFirecracker implements AutoCloseable {
        final AtomicInteger attempts = new AtomicInteger();
        final List<String> requests = new CopyOnWriteArrayList<>();
        private final ServerSocketChannel server;
        private final List<SocketChannel> open = new CopyOnWriteArrayList<>();
        private final Thread acceptor;

        FakeFirecracker(Path uds, Path agentSocket, int refusals, boolean silentRefusals) throws IOException {
            server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            server.bind(UnixDomainSocketAddress.of(uds));
            acceptor = new Thread(() -> {
                try {
                    while (true) {
                        SocketChannel host = server.accept();
                        open.add(host);
                        int n = attempts.incrementAndGet();
                        String line = readLine(host);
                        requests.add(line);
                        if (n <= refusals) {
                            if (!silentRefusals) {
                                host.close(); // nothing listens on the port yet
                            }
                            continue;
                        }
                        host.write(ByteBuffer.wrap("OK 1073741824\n".getBytes(StandardCharsets.US_ASCII)));
                        SocketChannel guest = SocketChannel.open(UnixDomainSocketAddress.of(agentSocket));
                        open.add(guest);
                        pump(host, guest);
                        pump(guest, host);
                    }
                } catch (IOException e) {
                    // closed
                }
            }, "fake-firecracker");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        private static String readLine(SocketChannel ch) throws IOException {
            StringBuilder sb = new StringBuilder();
            ByteBuffer one = ByteBuffer.allocate(1);
            while (true) {
                one.clear();
                if (ch.read(one) < 0) {
                    return sb.toString();
                }
                char c = (char) one.get(0);
                if (c == '\n') {
                    return sb.toString();
                }
                sb.append(c);
            }
        }

        private static void pump(SocketChannel from, SocketChannel to) {
            Thread t = new Thread(() -> {
                ByteBuffer buf = ByteBuffer.allocate(65536);
                try {
                    while (from.read(buf) >= 0) {
                        buf.flip();
                        while (buf.hasRemaining()) {
                            to.write(buf);
                        }
                        buf.clear();
                    }
                    to.shutdownOutput();
                } catch (IOException e) {
                    // one side closed
                }
            }, "fake-firecracker-pump");
            t.setDaemon(true);
            t.start();
        }

        @Override
        public void close() throws IOException {
            server.close();
            for (SocketChannel ch : open) {
                ch.close();
            }
        }
    }
}
