package dev.banger.vmm.qemu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.banger.json.Json;
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
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** QmpClient against a scripted QMP server on a real Unix socket. */
class QmpClientTest {

    private static final String GREETING = "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, "
            + "\"major\": 7}}, \"capabilities\": [\"oob\"]}}";

    @TempDir
    Path dir;

    private ServerSocketChannel server;
    private Thread thread;
    private final List<String> received = new CopyOnWriteArrayList<>();

    /** Serves one client: sends {@code greeting} (if not null), then answers each request line with replies. */
    private Path serve(String greeting, Function<Map<?, ?>, List<String>> replies) throws IOException {
        Path sock = dir.resolve("qmp.sock");
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(sock));
        thread = new Thread(() -> {
            try (SocketChannel client = server.accept()) {
                if (greeting != null) {
                    send(client, greeting);
                }
                StringBuilder line = new StringBuilder();
                ByteBuffer buf = ByteBuffer.allocate(1024);
                while (client.read(buf) > 0) {
                    buf.flip();
                    line.append(StandardCharsets.UTF_8.decode(buf));
                    buf.clear();
                    int nl;
                    while ((nl = line.indexOf("\n")) >= 0) {
                        String request = line.substring(0, nl);
                        line.delete(0, nl + 1);
                        received.add(request);
                        for (String reply : replies.apply((Map<?, ?>) Json.parseTree(request))) {
                            send(client, reply);
                        }
                    }
                }
            } catch (IOException ignored) {
                // test server: the client went away
            }
        }, "fake-qmp");
        thread.setDaemon(true);
        thread.start();
        return sock;
    }

    private static void send(SocketChannel ch, String line) throws IOException {
        ByteBuffer b = ByteBuffer.wrap((line + "\r\n").getBytes(StandardCharsets.UTF_8));
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    private static String ok(Map<?, ?> req, String ret) {
        return "{\"return\": " + ret + ", \"id\": " + req.get("id") + "}";
    }

    @AfterEach
    void stop() throws IOException, InterruptedException {
        if (server != null) {
            server.close();
        }
        if (thread != null) {
            thread.join(2000);
        }
    }

    @Test
    void negotiatesThenAnswersQueryStatusSkippingEvents() throws IOException {
        Path sock = serve(GREETING, req -> switch (String.valueOf(req.get("execute"))) {
            case "qmp_capabilities" -> List.of(ok(req, "{}"));
            case "query-status" -> List.of(
                    "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"NIC_RX_FILTER_CHANGED\"}",
                    ok(req, "{\"status\": \"running\", \"singlestep\": false, \"running\": true}"));
            default -> List.of(ok(req, "{}"));
        });

        try (QmpClient qmp = QmpClient.connect(sock, Duration.ofSeconds(2))) {
            assertThat(qmp.queryStatus(Duration.ofSeconds(2))).isEqualTo("running");
            qmp.systemPowerdown(Duration.ofSeconds(2));
        }

        assertThat(received).extracting(r -> String.valueOf(((Map<?, ?>) Json.parseTree(r)).get("execute")))
                .containsExactly("qmp_capabilities", "query-status", "system_powerdown");
    }

    @Test
    void eventsReadWhileACommandWaitedAreKeptForEventsWithThoseWaitingOnTheSocket() throws Exception {
        Path sock = serve(GREETING, req -> switch (String.valueOf(req.get("execute"))) {
            case "query-status" -> List.of(
                    "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"STOP\"}",
                    ok(req, "{\"status\": \"paused\", \"running\": false}"),
                    "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 3}, \"event\": \"RESUME\"}");
            default -> List.of(ok(req, "{}"));
        });

        try (QmpClient qmp = QmpClient.connect(sock, Duration.ofSeconds(2))) {
            assertThat(qmp.queryStatus(Duration.ofSeconds(2))).isEqualTo("paused");
            List<String> names = new java.util.ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos();
            while (names.size() < 2 && System.nanoTime() < deadline) {
                qmp.events().forEach(e -> names.add(String.valueOf(e.get("event"))));
                Thread.sleep(5);
            }
            assertThat(names).containsExactly("STOP", "RESUME");
            assertThat(qmp.events()).as("taken once, and nothing waits").isEmpty();
        }
    }

    @Test
    void anErrorReplyBecomesAnExceptionWithQemusDescription() throws IOException {
        Path sock = serve(GREETING, req -> String.valueOf(req.get("execute")).equals("qmp_capabilities")
                ? List.of(ok(req, "{}"))
                : List.of("{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command nope has not been "
                        + "found\"}, \"id\": " + req.get("id") + "}"));

        try (QmpClient qmp = QmpClient.connect(sock, Duration.ofSeconds(2))) {
            assertThatThrownBy(() -> qmp.execute("nope", Duration.ofSeconds(2)))
                    .isInstanceOf(QmpException.class)
                    .hasMessageContaining("QMP nope on " + sock + " failed: CommandNotFound: The command nope");
        }
    }

    @Test
    void aSilentServerTimesOut() throws IOException {
        Path sock = serve(null, req -> List.of());
        long start = System.nanoTime();

        assertThatThrownBy(() -> QmpClient.connect(sock, Duration.ofMillis(300)))
                .isInstanceOf(QmpException.class).hasMessageContaining("timed out");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
    }

    @Test
    void noServerIsAClearError() {
        Path sock = dir.resolve("absent.sock");
        assertThatThrownBy(() -> QmpClient.connect(sock, Duration.ofSeconds(1)))
                .isInstanceOf(QmpException.class)
                .hasMessageContaining("cannot connect to QMP socket " + sock);
    }

    @Test
    void quitToleratesTheServerHangingUp() throws IOException {
        Path sock = serve(GREETING, req -> {
            if (String.valueOf(req.get("execute")).equals("quit")) {
                try {
                    server.close();
                } catch (IOException ignored) {
                    // closing the listener only
                }
                throw new IllegalStateException("hang up");
            }
            return List.of(ok(req, "{}"));
        });
        try (QmpClient qmp = QmpClient.connect(sock, Duration.ofSeconds(2))) {
            qmp.quit(Duration.ofSeconds(2));
        }
    }
}
