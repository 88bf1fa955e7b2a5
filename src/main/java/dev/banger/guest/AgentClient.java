package dev.banger.guest;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.Closeable;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A connection to one guest agent (docs/agent-protocol.md): many concurrent channels (execs, requests) over one
 * stream. A reader thread takes frames apart and hands them to their channels; it never writes, so a slow
 * consumer can never stall the stream for the others.
 *
 * <p>The client owns the stream its transport opened and closes it in {@link #close()}; closing ends every open
 * channel (their {@link ExecProcess}es fail with an {@link AgentException}, and the agent kills their processes).
 * When the connection dies, every open channel fails promptly with an exception naming the agent.
 */
public final class AgentClient implements Closeable {

    private static final Logger LOG = LoggerFactory.getLogger(AgentClient.class);

    /** How often HELLO is repeated while the agent is silent (a virtio-serial port drops bytes until opened). */
    static final Duration HELLO_INTERVAL = Duration.ofMillis(500);
    /** Default wait for the answer to a request (ping, shutdown). */
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);
    /**
     * Zero bytes sent once when HELLO has gone unanswered for {@link #RESYNC_AFTER}: they complete any frame the
     * agent is still waiting for from an earlier host that vanished mid-frame (a virtio-serial port outlives its
     * host connections). Not sent sooner: a booting guest would have to swallow the megabyte before our HELLO.
     */
    private static final int RESYNC_PADDING = FrameType.MAX_PAYLOAD + FrameType.HEADER_LENGTH;
    static final Duration RESYNC_AFTER = Duration.ofSeconds(10);

    private final SocketChannel socket;
    private final String peer;
    private final FrameWriter writer;
    private final Map<Integer, ChannelHandler> handlers = new ConcurrentHashMap<>();
    private final AtomicInteger nextChannel = new AtomicInteger();
    private final CompletableFuture<Map<?, ?>> hello = new CompletableFuture<>();
    private final ExecutorService control;
    private final Thread reader;
    private final Object failureLock = new Object();
    private volatile AgentException failure;
    private volatile boolean closed;

    /** Receives the frames of one channel, on the reader thread; must not block. */
    interface ChannelHandler {
        void onFrame(Frame frame);

        void onConnectionLost(AgentException cause);
    }

    private AgentClient(SocketChannel socket, String peer) {
        this.socket = socket;
        this.peer = peer;
        this.writer = new FrameWriter(socket);
        // One thread at a time keeps this connection's control writes in order; it exits when idle, so a VM
        // nobody is talking to costs the daemon only its reader thread.
        ThreadPoolExecutor serial = new ThreadPoolExecutor(1, 1, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                r -> {
                    Thread t = new Thread(r, "agent-control " + peer);
                    t.setDaemon(true);
                    return t;
                });
        serial.allowCoreThreadTimeOut(true);
        this.control = serial;
        this.reader = new Thread(this::readLoop, "agent-reader " + peer);
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * Opens a stream with {@code transport} and does the HELLO handshake, all within {@code timeout}.
     *
     * @throws AgentException when the agent cannot be reached or does not answer HELLO in time
     */
    public static AgentClient connect(AgentTransport transport, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        SocketChannel socket = transport.open(timeout);
        AgentClient client = new AgentClient(socket, transport.describe());
        try {
            client.handshake(deadline);
            return client;
        } catch (IOException | RuntimeException e) {
            client.close();
            throw e;
        }
    }

    /**
     * Waits for a booting guest's agent: connects, says HELLO and pings until one succeeds or {@code deadline}
     * passes. The connection stays open and is returned.
     *
     * @param serialLog the guest's serial console log, named in the error so the user knows where to look
     * @throws AgentException "guest agent did not answer within 30s; see the serial console log PATH"
     */
    public static AgentClient awaitReady(AgentTransport transport, Duration deadline, Path serialLog)
            throws AgentException {
        long end = System.nanoTime() + deadline.toNanos();
        IOException last = null;
        while (true) {
            long remaining = end - System.nanoTime();
            if (remaining <= 0) {
                break;
            }
            AgentClient client = null;
            try {
                client = connect(transport, Duration.ofNanos(remaining));
                client.ping(Duration.ofNanos(Math.max(1, Math.min(end - System.nanoTime(),
                        REQUEST_TIMEOUT.toNanos()))));
                return client;
            } catch (InterruptedIOException e) {
                if (client != null) {
                    client.close();
                }
                Thread.currentThread().interrupt();
                throw new AgentException("interrupted while waiting for the guest agent (" + transport.describe()
                        + ")", e);
            } catch (IOException e) {
                last = e;
                if (client != null) {
                    client.close();
                }
            }
            long pause = Math.min(TimeUnit.MILLISECONDS.toNanos(100), end - System.nanoTime());
            if (pause > 0) {
                try {
                    TimeUnit.NANOSECONDS.sleep(pause);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new AgentException("interrupted while waiting for the guest agent", e);
                }
            }
        }
        throw new AgentException("guest agent did not answer within " + humanDuration(deadline)
                + "; see the serial console log " + serialLog, last);
    }

    /**
     * Sends {@code op} and waits at most {@code timeout} for its answer.
     *
     * @return the op's result, read from the agent's RESULT
     * @throws AgentException the agent's ERROR (with its {@link AgentException#code()}), a result that lacks what
     *     the op needs, no answer within {@code timeout}, or a lost connection
     */
    public <R> R call(AgentOp.Call<R> op, Duration timeout) throws IOException {
        Objects.requireNonNull(op, "op");
        int id = allocateChannel();
        CompletableFuture<R> result = new CompletableFuture<>();
        String context = op.wireName() + " on " + peer;
        handlers.put(id, new ChannelHandler() {
            @Override
            public void onFrame(Frame frame) {
                if (frame.type() == FrameType.RESULT) {
                    handlers.remove(id);
                    try {
                        result.complete(AgentCodec.result(op, frame, context));
                    } catch (AgentException e) {
                        result.completeExceptionally(e);
                    }
                } else if (frame.type() == FrameType.ERROR) {
                    handlers.remove(id);
                    result.completeExceptionally(AgentCodec.error(frame, context));
                }
            }

            @Override
            public void onConnectionLost(AgentException cause) {
                result.completeExceptionally(cause);
            }
        });
        try {
            send(FrameType.OPEN, id, AgentCodec.request(op));
            return result.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new AgentException("guest agent at " + peer + " did not answer " + op.wireName() + " within "
                    + humanDuration(timeout));
        } catch (ExecutionException e) {
            throw unwrap(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted waiting for " + op.wireName() + " on " + peer);
        } finally {
            handlers.remove(id);
        }
    }

    /**
     * Opens a channel for {@code op}. Returns once the request is sent; what the agent answers (a program that
     * cannot start, an unknown session) shows up as an {@link AgentException} from the handle.
     *
     * @return the handle to stream through and wait on
     */
    public <R, H> H open(AgentOp.Channel<R, H> op) throws IOException {
        Objects.requireNonNull(op, "op");
        int id = allocateChannel();
        AgentChannel<R> channel = new AgentChannel<>(this, id, op);
        H handle = op.handle(channel);
        handlers.put(id, channel.handler());
        try {
            send(FrameType.OPEN, id, AgentCodec.request(op));
        } catch (IOException e) {
            handlers.remove(id);
            throw e;
        }
        if (op.outputWindow() > FrameType.INITIAL_WINDOW) {
            send(FrameType.WINDOW, id, u32(op.outputWindow() - FrameType.INITIAL_WINDOW));
        }
        return handle;
    }

    /** The agent's identity and uptime; waits at most {@link #REQUEST_TIMEOUT}. */
    public AgentInfo ping() throws IOException {
        return ping(REQUEST_TIMEOUT);
    }

    public AgentInfo ping(Duration timeout) throws IOException {
        return call(new AgentOp.Ping(), timeout);
    }

    /**
     * Starts a program in the guest. The call returns once the request is sent. A program that does not exist or
     * cannot be executed exits 127 or 126 with one line on its stderr, as under a shell; a bad working directory
     * shows up as an {@link AgentException} with code {@code exec_failed} from {@link ExecProcess#waitFor()}.
     */
    public ExecProcess exec(ExecSpec spec) throws IOException {
        return open(new AgentOp.Exec(spec));
    }

    /**
     * Starts a session: a named process that belongs to the agent and outlives this connection (see
     * docs/agent-protocol.md, "Sessions"). {@code spec}'s argv, env, cwd, tty and stdin apply as for exec; with
     * stdin the session's stdin stays open for attachers.
     *
     * @return the session's pid in the guest
     * @throws AgentException {@code already_exists} (one of that name runs), {@code limit_reached},
     *     {@code exec_failed}, {@code bad_request} (a bad name)
     */
    public int startSession(String name, ExecSpec spec) throws IOException {
        return call(new AgentOp.SessionStart(name, spec), REQUEST_TIMEOUT);
    }

    /** The guest's sessions, running and ended (until removed), in the order they were started. */
    public List<SessionInfo> listSessions() throws IOException {
        return call(new AgentOp.SessionList(), REQUEST_TIMEOUT);
    }

    /**
     * Attaches to a session: with {@code replay} its buffered output first, then live output and input. An
     * unknown session shows up as {@code not_found} from {@link SessionAttachment#waitFor()} and on its streams.
     */
    public SessionAttachment attachSession(String name, boolean replay) throws IOException {
        return open(new AgentOp.SessionAttach(name, replay));
    }

    /** A session's buffered output; with {@code follow}, then its live output until it ends. No input. */
    public SessionAttachment sessionLogs(String name, boolean follow) throws IOException {
        return open(new AgentOp.SessionLogs(name, follow));
    }

    /** @throws AgentException {@code not_found}, {@code not_running} (it has ended) */
    public void killSession(String name, int signal) throws IOException {
        call(new AgentOp.SessionKill(name, signal), REQUEST_TIMEOUT);
    }

    /** Forgets an ended session. @throws AgentException {@code not_found}, {@code still_running} */
    public void removeSession(String name) throws IOException {
        call(new AgentOp.SessionRemove(name), REQUEST_TIMEOUT);
    }

    /** Streams a tar archive of {@code path} (absolute; a file or a directory tree) out of the guest. */
    public FileCopyOut readFile(String path) throws IOException {
        return readFile(path, null);
    }

    /**
     * Like {@link #readFile(String)}, with the archive over a TCP connection to the guest at {@code overTcp} when
     * the agent can (docs/agent-protocol.md, "The archive over TCP"), else on the channel.
     *
     * @param overTcp the guest's own address, or null for the channel
     */
    public FileCopyOut readFile(String path, InetAddress overTcp) throws IOException {
        CopyConnection.Offer offer = overTcp == null ? null : CopyConnection.Offer.to(overTcp);
        FileCopyOut copy = open(new AgentOp.FileRead(path, offer));
        if (offer != null) {
            copy.connect(offer);
        }
        return copy;
    }

    /** Extracts the tar archive written to the returned handle at {@code path} (absolute) in the guest. */
    public FileCopyIn writeFile(String path) throws IOException {
        return writeFile(path, null);
    }

    /**
     * Like {@link #writeFile(String)}, with the archive over a TCP connection to the guest at {@code overTcp} when
     * the agent can, else on the channel.
     *
     * @param overTcp the guest's own address, or null for the channel
     */
    public FileCopyIn writeFile(String path, InetAddress overTcp) throws IOException {
        CopyConnection.Offer offer = overTcp == null ? null : CopyConnection.Offer.to(overTcp);
        FileCopyIn copy = open(new AgentOp.FileWrite(path, offer));
        if (offer != null) {
            copy.connect(offer);
        }
        return copy;
    }

    /** Personalising mounts the work disk (a first boot copies the image's /root into it) and starts sshd. */
    static final Duration PERSONALISE_TIMEOUT = Duration.ofSeconds(60);

    /** Listening TCP and bound UDP sockets in the guest, by port. */
    public List<ListeningPort> ports() throws IOException {
        return call(new AgentOp.Ports(), REQUEST_TIMEOUT);
    }

    /** Sets the guest's clock to {@code hostTime} when it is off by more than {@code tolerance}. */
    public ClockStep setClock(Instant hostTime, Duration tolerance) throws IOException {
        return call(new AgentOp.ClockSet(hostTime, tolerance), REQUEST_TIMEOUT);
    }

    /** Steps the guest's clock by {@code delta} (zero only reads it); answers its clock after the step. */
    public ClockReading adjustClock(Duration delta) throws IOException {
        return call(new AgentOp.ClockAdjust(delta), REQUEST_TIMEOUT);
    }

    /** Gives a guest restored from a template its identity; returns the steps it applied and those it skipped. */
    public Personalised personalise(Personalisation identity) throws IOException {
        return call(new AgentOp.Personalise(identity), PERSONALISE_TIMEOUT);
    }

    /** Ensures {@code publicKey} in root's authorized_keys, replacing earlier keys marked with {@code comment}. */
    public KeyAuthorization authorize(String publicKey, String comment) throws IOException {
        return call(new AgentOp.SshAuthorize(publicKey, comment), REQUEST_TIMEOUT);
    }

    /**
     * Asks the guest to stop all processes, unmount and power off or reboot. Returns when the agent has accepted;
     * the connection then ends as the guest goes down.
     */
    public void shutdown(ShutdownAction action) throws IOException {
        call(new AgentOp.Shutdown(action), REQUEST_TIMEOUT);
    }

    /** False once the connection is closed or lost. */
    public boolean isConnected() {
        return failure == null && !closed;
    }

    /** Closes the stream; every open channel fails and the agent kills their processes. Idempotent. */
    @Override
    public void close() {
        closed = true;
        fail(new AgentException("closed by the caller"));
        control.shutdownNow();
    }

    @Override
    public String toString() {
        return "AgentClient[" + peer + (isConnected() ? "" : ", closed") + "]";
    }

    // --- used by AgentChannel ---

    String peer() {
        return peer;
    }

    void send(int type, int channel, byte[] payload) throws IOException {
        send(type, channel, payload, 0, payload.length);
    }

    void send(int type, int channel, byte[] payload, int off, int len) throws IOException {
        AgentException f = failure;
        if (f != null) {
            throw new AgentException(f.getMessage(), f);
        }
        try {
            writer.write(type, channel, payload, off, len);
        } catch (IOException e) {
            fail(e);
            throw new AgentException(failure.getMessage(), e);
        }
    }

    /** Sends a small control frame from the control thread, for callers that must not block on the stream. */
    void sendAsync(int type, int channel, byte[] payload) {
        if (failure != null) {
            return;
        }
        try {
            control.execute(() -> {
                try {
                    send(type, channel, payload);
                } catch (IOException e) {
                    LOG.debug("cannot send {} on channel {} to {}: {}", FrameType.name(type), channel, peer,
                            e.getMessage());
                }
            });
        } catch (RejectedExecutionException e) {
            // Closed meanwhile: nothing left to tell the agent.
        }
    }

    void release(int channel) {
        handlers.remove(channel);
    }

    // --- internals ---

    private void handshake(long deadline) throws IOException {
        byte[] helloPayload = AgentCodec.hello();
        int attempts = 0;
        long start = System.nanoTime();
        boolean resynced = false;
        while (true) {
            // Writes go through the control thread: if the VMM is not draining the socket yet, a write may block,
            // and only close() (on timeout) can free it.
            boolean resync = !resynced && System.nanoTime() - start >= RESYNC_AFTER.toNanos();
            resynced |= resync;
            control.execute(() -> {
                try {
                    if (resync) {
                        writer.writeRaw(new byte[RESYNC_PADDING]);
                    }
                    writer.write(FrameType.HELLO, 0, helloPayload);
                } catch (IOException e) {
                    fail(e);
                }
            });
            attempts++;
            long remaining = deadline - System.nanoTime();
            long wait = Math.min(HELLO_INTERVAL.toNanos(), remaining);
            try {
                Map<?, ?> reply = hello.get(Math.max(wait, 0), TimeUnit.NANOSECONDS);
                int protocol = AgentCodec.helloProtocol(reply);
                if (protocol != FrameType.PROTOCOL_VERSION) {
                    throw new AgentException("guest agent at " + peer + " speaks protocol " + protocol + ", not "
                            + FrameType.PROTOCOL_VERSION + " (HELLO " + reply + ")");
                }
                LOG.debug("agent at {} says hello: {}", peer, reply);
                return;
            } catch (TimeoutException e) {
                if (deadline - System.nanoTime() <= 0) {
                    throw new AgentException("guest agent at " + peer + " did not answer HELLO within the "
                            + "timeout (" + attempts + " attempts)");
                }
            } catch (ExecutionException e) {
                throw unwrap(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted during HELLO with " + peer);
            }
        }
    }

    private static IOException unwrap(ExecutionException e) {
        Throwable cause = e.getCause();
        if (cause instanceof AgentException ae) {
            return ae.rethrown();
        }
        return new AgentException(String.valueOf(cause.getMessage()), cause);
    }

    private int allocateChannel() {
        while (true) {
            int id = nextChannel.incrementAndGet() & 0x7FFFFFFF;
            if (id != 0 && !handlers.containsKey(id)) {
                return id;
            }
        }
    }

    private void readLoop() {
        FrameReader frames = new FrameReader(socket);
        try {
            while (true) {
                Frame frame = frames.read();
                if (frame == null) {
                    throw new AgentException("the agent closed the connection");
                }
                dispatch(frame);
            }
        } catch (IOException | RuntimeException e) {
            fail(e);
        }
    }

    private void dispatch(Frame frame) {
        if (!hello.isDone()) {
            // Anything before the HELLO reply belongs to an earlier host session.
            if (frame.type() == FrameType.HELLO && frame.channel() == 0) {
                try {
                    hello.complete(Json.parse(frame));
                } catch (AgentException e) {
                    hello.completeExceptionally(e);
                }
            }
            return;
        }
        if (frame.channel() == 0) {
            if (frame.type() == FrameType.ERROR) {
                LOG.warn("guest agent at {} reports on the control channel: {}", peer, frame.text());
            }
            return;
        }
        ChannelHandler handler = handlers.get(frame.channel());
        if (handler != null) {
            handler.onFrame(frame);
        }
    }

    private void fail(Throwable cause) {
        AgentException lost;
        synchronized (failureLock) {
            if (failure != null) {
                return;
            }
            lost = closed
                    ? new AgentException("agent client for " + peer + " is closed", cause)
                    : new AgentException("connection to the guest agent (" + peer + ") lost: " + describe(cause),
                            cause);
            failure = lost;
        }
        try {
            socket.close();
        } catch (IOException e) {
            LOG.debug("closing agent socket {}: {}", peer, e.getMessage());
        }
        hello.completeExceptionally(lost);
        for (ChannelHandler h : List.copyOf(handlers.values())) {
            h.onConnectionLost(lost);
        }
        handlers.clear();
    }

    private static String describe(Throwable t) {
        return t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName();
    }

    static String humanDuration(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
    }

    static byte[] u32(long value) {
        return ByteBuffer.allocate(4).putInt((int) value).array();
    }
}
