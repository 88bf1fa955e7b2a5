package dev.banger.vmm.qemu;

import dev.banger.json.Json;
import dev.banger.json.JsonException;
import java.io.ByteArrayOutputStream;
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
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A QEMU Machine Protocol client over the QMP Unix socket: reads the greeting, negotiates with
 * {@code qmp_capabilities}, then runs commands one at a time. Asynchronous events read meanwhile are kept (the
 * last {@value #MAX_QUEUED_EVENTS}) for {@link #events()}, which also takes those already waiting on the socket
 * without blocking; a client that never asks simply drops them when it closes. Every read and write
 * has a deadline (the channel is non-blocking behind a selector; no stream wrappers, which on Java 17 share one
 * lock between reading and writing). QEMU serves one QMP client per socket at a time, so connections are meant to
 * be short: open, ask, close.
 */
public final class QmpClient implements AutoCloseable {

    static final int MAX_QUEUED_EVENTS = 1000;

    private final Path socket;
    private final SocketChannel channel;
    private final Selector selector;
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();
    private final ByteBuffer readBuffer = ByteBuffer.allocate(8192);
    private final ArrayDeque<Map<?, ?>> events = new ArrayDeque<>();
    private long nextId = 1;

    private QmpClient(Path socket, SocketChannel channel, Selector selector) {
        this.socket = socket;
        this.channel = channel;
        this.selector = selector;
    }

    /** Connects, reads the greeting and enters command mode, all within {@code timeout}. */
    public static QmpClient connect(Path socket, Duration timeout) {
        SocketChannel channel = null;
        Selector selector = null;
        try {
            channel = SocketChannel.open(StandardProtocolFamily.UNIX);
            channel.connect(UnixDomainSocketAddress.of(socket));
            channel.configureBlocking(false);
            selector = Selector.open();
            QmpClient client = new QmpClient(socket, channel, selector);
            long deadline = System.nanoTime() + timeout.toNanos();
            Map<?, ?> greeting = client.readMessage(deadline);
            if (!greeting.containsKey("QMP")) {
                throw new QmpException("QMP socket " + socket + " sent no greeting, got: " + greeting);
            }
            client.execute("qmp_capabilities", null, deadline);
            return client;
        } catch (IOException e) {
            closeQuietly(channel, selector);
            throw new QmpException("cannot connect to QMP socket " + socket + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            closeQuietly(channel, selector);
            throw e;
        }
    }

    /** Runs {@code command} and returns its {@code return} value as a JSON tree (see {@link Json#parseTree}). */
    public Object execute(String command, Duration timeout) {
        return execute(command, null, System.nanoTime() + timeout.toNanos());
    }

    /** Runs {@code command} with {@code arguments} and returns its {@code return} value as a JSON tree. */
    public Object execute(String command, Map<String, Object> arguments, Duration timeout) {
        return execute(command, arguments, System.nanoTime() + timeout.toNanos());
    }

    /** The VM's run state: "running", "paused", "shutdown", ... */
    public String queryStatus(Duration timeout) {
        Object result = execute("query-status", timeout);
        return result instanceof Map<?, ?> map && map.get("status") instanceof String status ? status : "";
    }

    /** Presses the virtual power button; the guest decides what to do with it. */
    public void systemPowerdown(Duration timeout) {
        execute("system_powerdown", timeout);
    }

    /** Tells QEMU to exit now, without asking the guest. */
    public void quit(Duration timeout) {
        try {
            execute("quit", timeout);
        } catch (QmpException e) {
            // QEMU may close the socket before its answer to quit is read; that is what quit asked for.
            if (!(e.getCause() instanceof IOException) && !e.getMessage().contains("closed the connection")) {
                throw e;
            }
        }
    }

    private Object execute(String command, Map<String, Object> arguments, long deadline) {
        long id = nextId++;
        Map<String, Object> request = new LinkedHashMap<>();
        request.put("execute", command);
        if (arguments != null) {
            request.put("arguments", arguments);
        }
        request.put("id", id);
        try {
            write((Json.write(request) + "\n").getBytes(StandardCharsets.UTF_8), deadline, command);
            while (true) {
                Map<?, ?> message = readMessage(deadline);
                if (message.containsKey("event")) {
                    queue(message);
                    continue;
                }
                if (!Long.valueOf(id).equals(message.get("id"))) {
                    continue;
                }
                if (message.get("error") instanceof Map<?, ?> error) {
                    throw new QmpException("QMP " + command + " on " + socket + " failed: "
                            + error.get("class") + ": " + error.get("desc"));
                }
                return message.get("return");
            }
        } catch (IOException e) {
            throw new QmpException("QMP " + command + " on " + socket + " failed: " + e.getMessage(), e);
        }
    }

    /**
     * The events received since the last call, oldest first: those read while a command waited for its answer
     * and those already on the socket, read without waiting. Each is the whole message ({@code event},
     * {@code data}, {@code timestamp}).
     *
     * @throws QmpException when QEMU closed the connection (after the events it sent before closing were taken)
     */
    public List<Map<?, ?>> events() {
        try {
            boolean closed = false;
            while (true) {
                readBuffer.clear();
                int n = channel.read(readBuffer);
                if (n < 0) {
                    closed = true;
                    break;
                }
                if (n == 0) {
                    break;
                }
                pending.write(readBuffer.array(), 0, n);
            }
            Map<?, ?> message;
            while ((message = nextBufferedMessage()) != null) {
                if (message.containsKey("event")) {
                    queue(message);
                }
            }
            List<Map<?, ?>> taken = new ArrayList<>(events);
            events.clear();
            if (closed && taken.isEmpty()) {
                throw new QmpException("QEMU closed the connection on QMP socket " + socket);
            }
            return taken;
        } catch (IOException e) {
            throw new QmpException("cannot read events from QMP socket " + socket + ": " + e.getMessage(), e);
        }
    }

    private void queue(Map<?, ?> event) {
        if (events.size() == MAX_QUEUED_EVENTS) {
            events.removeFirst();
        }
        events.addLast(event);
    }

    private void write(byte[] bytes, long deadline, String what) throws IOException {
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        while (buf.hasRemaining()) {
            if (channel.write(buf) == 0) {
                await(SelectionKey.OP_WRITE, deadline, "sending " + what);
            }
        }
    }

    private Map<?, ?> readMessage(long deadline) throws IOException {
        while (true) {
            Map<?, ?> message = nextBufferedMessage();
            if (message != null) {
                return message;
            }
            readBuffer.clear();
            int n = channel.read(readBuffer);
            if (n < 0) {
                throw new QmpException("QEMU closed the connection on QMP socket " + socket);
            }
            if (n == 0) {
                await(SelectionKey.OP_READ, deadline, "waiting for an answer");
            } else {
                pending.write(readBuffer.array(), 0, n);
            }
        }
    }

    /** The next whole message already read, or null. */
    private Map<?, ?> nextBufferedMessage() {
        while (true) {
            byte[] all = pending.toByteArray();
            int nl = indexOfNewline(all);
            if (nl < 0) {
                return null;
            }
            String line = new String(all, 0, nl, StandardCharsets.UTF_8).strip();
            pending.reset();
            pending.write(all, nl + 1, all.length - nl - 1);
            if (line.isEmpty()) {
                continue;
            }
            Object tree;
            try {
                tree = Json.parseTree(line);
            } catch (JsonException e) {
                throw new QmpException("QMP socket " + socket + " sent something that is not JSON: " + line);
            }
            if (!(tree instanceof Map<?, ?> map)) {
                throw new QmpException("QMP socket " + socket + " sent a message that is not an object: " + line);
            }
            return map;
        }
    }

    private static int indexOfNewline(byte[] b) {
        for (int i = 0; i < b.length; i++) {
            if (b[i] == '\n') {
                return i;
            }
        }
        return -1;
    }

    private void await(int op, long deadline, String what) throws IOException {
        long remainingMs = (deadline - System.nanoTime()) / 1_000_000;
        if (remainingMs <= 0) {
            throw new QmpException("QMP socket " + socket + " timed out " + what);
        }
        SelectionKey key = channel.register(selector, op);
        try {
            if (selector.select(remainingMs) == 0) {
                throw new QmpException("QMP socket " + socket + " timed out " + what);
            }
            selector.selectedKeys().clear();
        } finally {
            key.interestOps(0);
        }
    }

    @Override
    public void close() {
        closeQuietly(channel, selector);
    }

    private static void closeQuietly(SocketChannel channel, Selector selector) {
        try {
            if (selector != null) {
                selector.close();
            }
        } catch (IOException ignored) {
            // nothing to do
        }
        try {
            if (channel != null) {
                channel.close();
            }
        } catch (IOException ignored) {
            // nothing to do
        }
    }
}
