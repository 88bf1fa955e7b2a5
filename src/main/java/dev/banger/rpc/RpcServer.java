package dev.banger.rpc;

import dev.banger.api.BangerException;
import dev.banger.api.ErrorCode;
import dev.banger.json.Json;
import dev.banger.json.JsonException;
import java.io.Closeable;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import jdk.net.UnixDomainPrincipal;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import jdk.net.ExtendedSocketOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves RPC calls on a Unix socket: one call per connection. The first frame is the request; the daemon
 * answers with events and one final result or error frame, then closes. A bad frame, an unknown method or a
 * failing handler costs only that connection.
 */
public final class RpcServer implements Closeable {

    private static final Logger log = LoggerFactory.getLogger(RpcServer.class);
    /** A connection that sends no request within this time is closed. */
    static final long REQUEST_TIMEOUT_MS = 30_000;
    /**
     * Connections served at once (each holds a thread, and one more while its call reads input). Long calls count
     * too (exec, session attach, an ssh connection through vm.connect), so the bound is generous; beyond it a
     * client is answered "busy" at once instead of waiting in the kernel's accept queue.
     */
    public static final int MAX_CONNECTIONS = 256;
    /** How long, and how many bytes, an answered connection is drained before it is closed. */
    static final long LINGER_MS = 1_000;
    static final long LINGER_BYTES = 16L * 1024 * 1024;
    /** Connections beyond the bound waiting for their "busy" answer; past this they are closed unanswered. */
    static final int BUSY_QUEUE = 64;
    /** An idle connection thread ends after this long, so a burst leaves no threads behind. */
    static final long IDLE_THREAD_SECONDS = 2;

    private final Path socketPath;
    private final HandlerRegistry handlers;
    private final PeerPolicy peers;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicInteger connectionIds = new AtomicInteger();
    private final int maxConnections;
    /** One permit per connection being served; a connection that finds none is answered "busy" and closed. */
    private final Semaphore connectionPermits;
    private final ThreadPoolExecutor connections;
    /** One thread answers connections beyond the bound, lingering as {@link #closeAfterAnswer} does. */
    private final ThreadPoolExecutor busyAnswers = new ThreadPoolExecutor(0, 1, IDLE_THREAD_SECONDS,
            TimeUnit.SECONDS, new java.util.concurrent.ArrayBlockingQueue<>(BUSY_QUEUE), r -> {
                Thread t = new Thread(r, "rpc-busy");
                t.setDaemon(true);
                return t;
            });
    private final ScheduledThreadPoolExecutor timers = new ScheduledThreadPoolExecutor(1, r -> {
        Thread t = new Thread(r, "rpc-timer");
        t.setDaemon(true);
        return t;
    });
    private ServerSocketChannel server;
    /** False for an inherited socket: its file is not this process's to remove. */
    private boolean ownsSocketFile;
    private Thread acceptThread;
    private long lastBusyWarning;

    public RpcServer(Path socketPath, HandlerRegistry handlers, PeerPolicy peers) {
        this(socketPath, handlers, peers, MAX_CONNECTIONS);
    }

    RpcServer(Path socketPath, HandlerRegistry handlers, PeerPolicy peers, int maxConnections) {
        this.socketPath = socketPath;
        this.handlers = handlers;
        this.peers = peers;
        this.maxConnections = maxConnections;
        this.connectionPermits = new Semaphore(maxConnections);
        this.timers.setRemoveOnCancelPolicy(true); // Each connection cancels its timers: none may pile up.
        this.connections = new ThreadPoolExecutor(0, maxConnections, IDLE_THREAD_SECONDS, TimeUnit.SECONDS,
                new SynchronousQueue<>(), r -> {
                    Thread t = new Thread(r, "rpc-conn-" + connectionIds.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
    }

    /**
     * Binds the socket (replacing a stale socket file; the caller holds the state lock, so no live daemon owns
     * it), restricts it to 0600 (0660 with a socket group) and starts accepting. {@link #close()} removes it.
     */
    public void start() throws IOException {
        Files.deleteIfExists(socketPath);
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socketPath));
        ownsSocketFile = true;
        serve("listening on {} for {}");
    }

    /**
     * Serves a listening socket this process was handed, bound at this server's path (systemd's socket
     * activation): applies the same mode and group as {@link #start()} and starts accepting. The socket file
     * belongs to whoever created it: {@link #close()} leaves it in place.
     */
    public void start(ServerSocketChannel inherited) throws IOException {
        inherited.configureBlocking(true);
        server = inherited;
        ownsSocketFile = false;
        serve("listening on inherited socket {} for {}");
    }

    private void serve(String logFormat) throws IOException {
        PosixFileAttributeView view = Files.getFileAttributeView(socketPath, PosixFileAttributeView.class);
        if (peers.group().isPresent()) {
            view.setGroup(peers.group().get());
            view.setPermissions(PosixFilePermissions.fromString("rw-rw----"));
        } else {
            view.setPermissions(PosixFilePermissions.fromString("rw-------"));
        }
        acceptThread = new Thread(this::acceptLoop, "rpc-accept");
        acceptThread.setDaemon(true);
        acceptThread.start();
        log.info(logFormat, socketPath, peers.describe());
    }

    private void acceptLoop() {
        long lastWarning = 0;
        while (!closed.get()) {
            SocketChannel client;
            try {
                client = server.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                // Out of file descriptors, typically: warn once a minute, and give connections time to end.
                if (!closed.get() && System.nanoTime() - lastWarning > TimeUnit.MINUTES.toNanos(1)) {
                    log.warn("accept failed: {}", e.toString());
                    lastWarning = System.nanoTime();
                }
                sleepQuietly(50);
                continue;
            }
            if (!connectionPermits.tryAcquire()) {
                refuseBusy(client);
                continue;
            }
            try {
                connections.execute(() -> {
                    try {
                        serve(client);
                    } finally {
                        connectionPermits.release();
                    }
                });
            } catch (RuntimeException e) {
                connectionPermits.release();
                closeQuietly(client);
            }
        }
    }

    /**
     * Answers a connection beyond {@link #MAX_CONNECTIONS} with one error frame, on the accept thread: the frame is
     * far smaller than a fresh socket's send buffer, so the write does not wait for the client.
     */
    private void refuseBusy(SocketChannel client) {
        try {
            busyAnswers.execute(() -> {
                try {
                    sendError(new FrameChannel(client), BangerException.unavailable("the daemon is busy: it is "
                            + "serving " + maxConnections + " connections, its limit; try again when some have "
                            + "finished"));
                } catch (IOException | RuntimeException e) {
                    log.debug("busy answer not delivered: {}", e.toString());
                } finally {
                    closeAfterAnswer(client);
                }
            });
        } catch (RuntimeException e) { // The queue is full: too busy even to say so.
            closeQuietly(client);
        }
        long now = System.nanoTime();
        if (now - lastBusyWarning > TimeUnit.MINUTES.toNanos(1)) {
            lastBusyWarning = now;
            log.warn("refused a connection: {} connections in flight (the limit)", maxConnections);
        }
    }

    private static void sleepQuietly(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Serves one connection; whatever a client sends costs only its connection and never escapes as a throwable. */
    private void serve(SocketChannel socket) {
        try {
            serveChecked(socket);
        } catch (RuntimeException | Error e) {
            log.error("connection failed unexpectedly", e);
            closeQuietly(socket);
        }
    }

    private void serveChecked(SocketChannel socket) {
        FrameChannel frames = new FrameChannel(socket);
        ScheduledFuture<?> requestTimeout = timers.schedule(() -> closeQuietly(socket),
                REQUEST_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        String method = "?";
        try {
            UnixDomainPrincipal credentials = socket.getOption(ExtendedSocketOptions.SO_PEERCRED);
            Optional<Peer> admitted = peers.admit(credentials);
            if (admitted.isEmpty()) {
                log.warn("refused connection from user {}", credentials.user().getName());
                sendError(frames, new BangerException(ErrorCode.PERMISSION_DENIED,
                        "user " + credentials.user().getName() + " may not use this daemon (allowed: "
                                + peers.describe() + ")"));
                return;
            }
            Peer peer = admitted.get();
            byte[] first;
            try {
                first = frames.readMessage();
            } catch (FrameException e) {
                sendError(frames, new BangerException(ErrorCode.BAD_REQUEST, "bad frame: " + e.getMessage()));
                return;
            } finally {
                requestTimeout.cancel(false);
            }
            if (first == null) {
                return;
            }
            Envelope.Request request;
            try {
                request = Json.read(first, Envelope.Request.class);
            } catch (JsonException e) {
                sendError(frames, new BangerException(ErrorCode.BAD_REQUEST,
                        "request is not a valid JSON envelope: " + oneLine(e)));
                return;
            }
            if (request == null) {
                sendError(frames, new BangerException(ErrorCode.BAD_REQUEST,
                        "request is not a valid JSON envelope: null, where an object {method, params} belongs"));
                return;
            }
            method = request.method() == null ? "(none)" : request.method();
            HandlerRegistry.Registered<?, ?> registered = handlers.lookup(method);
            if (registered == null) {
                sendError(frames, new BangerException(ErrorCode.UNKNOWN_METHOD,
                        "unknown method '" + method + "'; is the CLI newer than the daemon? try: banger daemon stop"));
                return;
            }
            invoke(registered, request.params(), frames, peer);
        } catch (IOException e) {
            log.debug("connection ended during {}: {}", method, e.toString());
        } finally {
            requestTimeout.cancel(false);
            closeAfterAnswer(socket);
        }
    }

    /**
     * Closes a connection the daemon has answered without losing the answer: a Unix socket closed with unread
     * bytes in it resets the peer, whose pending read then fails before it sees the last frame. So the daemon ends
     * its sending side, then discards what the client still sends until it closes (the CLI does at once), for at
     * most {@link #LINGER_MS}.
     */
    private void closeAfterAnswer(SocketChannel socket) {
        if (!socket.isOpen()) {
            return;
        }
        ScheduledFuture<?> limit = null;
        try {
            socket.shutdownOutput();
            limit = timers.schedule(() -> closeQuietly(socket), LINGER_MS, TimeUnit.MILLISECONDS);
            java.nio.ByteBuffer discard = java.nio.ByteBuffer.allocate(8192);
            long total = 0;
            while (total < LINGER_BYTES) {
                discard.clear();
                int n = socket.read(discard);
                if (n < 0) {
                    break;
                }
                total += n;
            }
        } catch (IOException | RuntimeException e) {
            // Closed by the limit, or by the client: either way the answer was sent.
        } finally {
            if (limit != null) {
                limit.cancel(false);
            }
            closeQuietly(socket);
        }
    }

    private <Q, R> void invoke(HandlerRegistry.Registered<Q, R> registered, Object params, FrameChannel frames,
                               Peer peer) throws IOException {
        Q request;
        try {
            request = Json.fromTree(params == null ? java.util.Map.of() : params, registered.method().requestType());
        } catch (RuntimeException e) { // JsonException, or whatever else a client-made tree of any shape causes
            sendError(frames, new BangerException(ErrorCode.INVALID_ARGUMENT,
                    "bad parameters for " + registered.method().name() + ": " + oneLine(e)));
            return;
        }
        ServerCall call = new ServerCall(frames, peer);
        Thread inputReader = new Thread(call::readInputs, Thread.currentThread().getName() + "-input");
        inputReader.setDaemon(true);
        inputReader.start();
        R result;
        try {
            result = registered.handler().handle(request, call);
        } catch (BangerException e) {
            log.info("{} failed: {} {}", registered.method().name(), e.code().wireName(), e.getMessage());
            sendError(frames, e);
            return;
        } catch (IllegalArgumentException e) {
            sendError(frames, new BangerException(ErrorCode.INVALID_ARGUMENT, e.getMessage()));
            return;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            sendError(frames, new BangerException(ErrorCode.CANCELLED, "the daemon is shutting down"));
            return;
        } catch (Exception | Error e) {
            log.error("{} failed unexpectedly", registered.method().name(), e);
            sendError(frames, new BangerException(ErrorCode.INTERNAL, registered.method().name()
                    + " failed: " + oneLine(e) + " (details in the daemon log)"));
            return;
        } finally {
            call.finish();
        }
        send(frames, new Envelope.Response(null, Json.toTree(result), null));
    }

    private void sendError(FrameChannel frames, BangerException e) throws IOException {
        send(frames, new Envelope.Response(null, null, new Envelope.WireError(e.code().wireName(), e.getMessage())));
    }

    private void send(FrameChannel frames, Envelope.Response response) throws IOException {
        frames.write(Json.writeBytes(response));
    }

    private static String oneLine(Throwable e) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        int nl = message.indexOf('\n');
        return nl < 0 ? message : message.substring(0, nl);
    }

    private static void closeQuietly(Closeable c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // Nothing to do about a failing close.
        }
    }

    /** Stops accepting, closes the socket file and waits briefly for calls in flight. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        if (server != null) {
            closeQuietly(server);
        }
        try {
            if (ownsSocketFile) {
                Files.deleteIfExists(socketPath);
            }
        } catch (IOException e) {
            log.warn("could not remove {}: {}", socketPath, e.toString());
        }
        connections.shutdown();
        busyAnswers.shutdownNow();
        try {
            if (!connections.awaitTermination(5, TimeUnit.SECONDS)) {
                connections.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            timers.shutdownNow(); // After the connections: their closes still use it.
        }
    }
}
