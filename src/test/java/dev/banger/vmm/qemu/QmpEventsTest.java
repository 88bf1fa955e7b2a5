package dev.banger.vmm.qemu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.banger.json.Json;
import dev.banger.model.VmmKind;
import dev.banger.vmm.GuestPause;
import dev.banger.vmm.VmmException;
import dev.banger.vmm.VmmHandle;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** QmpEvents against a scripted QEMU monitor on a real Unix socket: events pushed, commands answered. */
class QmpEventsTest {

    private static final String GREETING = "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, "
            + "\"major\": 7}}, \"capabilities\": [\"oob\"]}}";
    private static final String RUNNING = "{\"running\": true, \"status\": \"running\"}";
    private static final String NO_SPACE = "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, "
            + "\"event\": \"BLOCK_IO_ERROR\", \"data\": {\"device\": \"disk1\", \"node-name\": \"#block123\", "
            + "\"operation\": \"write\", \"action\": \"stop\", \"nospace\": true, "
            + "\"reason\": \"No space left on device\"}}";

    @TempDir
    Path dir;

    private final List<String> received = new CopyOnWriteArrayList<>();
    private final List<ServerSocketChannel> servers = new CopyOnWriteArrayList<>();
    private volatile SocketChannel client;

    @AfterEach
    void stop() throws IOException {
        for (ServerSocketChannel s : servers) {
            s.close();
        }
        if (client != null) {
            client.close();
        }
    }

    private VmmHandle handle() {
        return new VmmHandle("vm1", VmmKind.QEMU, 1, 1, dir.resolve("control.sock"), dir.resolve("agent.sock"),
                dir.resolve("console.log"));
    }

    /** A monitor on {@code socket} answering each command with {@code answers} (by command name). */
    private void serve(Path socket, Function<String, String> answers) throws Exception {
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        servers.add(server);
        CountDownLatch connected = new CountDownLatch(1);
        Thread t = new Thread(() -> {
            try (SocketChannel c = server.accept()) {
                client = c;
                connected.countDown();
                send(GREETING);
                StringBuilder line = new StringBuilder();
                ByteBuffer buf = ByteBuffer.allocate(1024);
                while (c.read(buf) > 0) {
                    buf.flip();
                    line.append(StandardCharsets.UTF_8.decode(buf));
                    buf.clear();
                    int nl;
                    while ((nl = line.indexOf("\n")) >= 0) {
                        Map<?, ?> request = (Map<?, ?>) Json.parseTree(line.substring(0, nl));
                        line.delete(0, nl + 1);
                        String command = (String) request.get("execute");
                        received.add(command);
                        String ret = command.equals("qmp_capabilities") ? "{}" : answers.apply(command);
                        send("{\"return\": " + ret + ", \"id\": " + request.get("id") + "}");
                    }
                }
            } catch (IOException ignored) {
                // the client went away, or the test closed the socket
            }
        }, "fake-qmp-monitor");
        t.setDaemon(true);
        t.start();
    }

    private synchronized void send(String line) throws IOException {
        ByteBuffer b = ByteBuffer.wrap((line + "\r\n").getBytes(StandardCharsets.UTF_8));
        while (b.hasRemaining()) {
            client.write(b);
        }
    }

    private static String event(String name) {
        return "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"" + name + "\"}";
    }

    /** Polls until the pause changes from {@code from} (events arrive asynchronously), at most 5 s. */
    private static Optional<GuestPause> pollUntilNot(QmpEvents events, Optional<GuestPause> from)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        Optional<GuestPause> now = events.poll();
        while (now.equals(from) && System.nanoTime() < deadline) {
            Thread.sleep(10);
            now = events.poll();
        }
        return now;
    }

    @Test
    void aWriteWithNoSpaceThenStopIsAHostDiskFullPauseUntilResume() throws Exception {
        serve(QemuFiles.eventSocket(handle().controlSocket()), c -> RUNNING);
        try (QmpEvents events = QmpEvents.open(handle())) {
            assertThat(events.poll()).isEmpty();

            send(NO_SPACE);
            send(event("STOP"));
            Optional<GuestPause> paused = pollUntilNot(events, Optional.empty());
            assertThat(paused).contains(new GuestPause(GuestPause.Cause.HOST_DISK_FULL,
                    "write on drive disk1 failed: No space left on device"));
            assertThat(paused.get().reason()).isEqualTo("host disk full");
            assertThat(received).as("the events said why; nothing was asked").containsExactly("qmp_capabilities",
                    "query-status");

            send(event("RESUME"));
            assertThat(pollUntilNot(events, paused)).isEmpty();
        }
    }

    @Test
    void aStopWithoutAnIoErrorIsAskedAbout() throws Exception {
        String[] status = {RUNNING};
        serve(QemuFiles.eventSocket(handle().controlSocket()), c -> status[0]);
        try (QmpEvents events = QmpEvents.open(handle())) {
            status[0] = "{\"running\": false, \"status\": \"paused\"}";
            send(event("STOP"));
            assertThat(pollUntilNot(events, Optional.empty()).map(GuestPause::cause))
                    .contains(GuestPause.Cause.REQUESTED);
        }
    }

    @Test
    void aGuestAlreadyPausedByAFullDiskIsSeenAtOpenFromTheDrivesIoStatus() throws Exception {
        serve(QemuFiles.eventSocket(handle().controlSocket()), c -> switch (c) {
            case "query-status" -> "{\"running\": false, \"status\": \"io-error\"}";
            case "query-block" -> "[{\"device\": \"disk0\", \"io-status\": \"ok\"}, "
                    + "{\"device\": \"disk1\", \"io-status\": \"nospace\"}]";
            default -> "{}";
        });
        try (QmpEvents events = QmpEvents.open(handle())) {
            assertThat(events.poll()).contains(new GuestPause(GuestPause.Cause.HOST_DISK_FULL,
                    "write on drive disk1 failed: No space left on device"));
        }
    }

    @Test
    void shutdownIsKeptAndAClosedMonitorIsAnErrorAfterItsLastEvents() throws Exception {
        serve(QemuFiles.eventSocket(handle().controlSocket()), c -> RUNNING);
        try (QmpEvents events = QmpEvents.open(handle())) {
            send("{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"SHUTDOWN\", "
                    + "\"data\": {\"guest\": true, \"reason\": \"guest-shutdown\"}}");
            client.close();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (events.shutdown().isEmpty() && System.nanoTime() < deadline) {
                events.poll();
                Thread.sleep(10);
            }
            assertThat(events.shutdown()).contains("guest-shutdown (by the guest)");
            assertThatThrownBy(events::poll).isInstanceOf(VmmException.class).hasMessageContaining("closed");
        }
    }

    @Test
    void aQemuWithoutTheEventMonitorIsAskedOnItsControlSocket() throws Exception {
        serve(handle().controlSocket(), c -> c.equals("query-status")
                ? "{\"running\": false, \"status\": \"postmigrate\"}" : "{}");
        try (QmpEvents events = QmpEvents.open(handle())) {
            assertThat(events.poll()).contains(new GuestPause(GuestPause.Cause.OTHER,
                    "QEMU's status is postmigrate"));
        }
    }

    @Test
    void ioErrorEventsSayWhetherTheDiskWasFull() {
        assertThat(QmpEvents.fromIoError(Map.of("device", "disk0", "operation", "read", "action", "stop",
                "nospace", false, "reason", "Input/output error")))
                .isEqualTo(new GuestPause(GuestPause.Cause.IO_ERROR,
                        "read on drive disk0 failed: Input/output error"));
    }
}
