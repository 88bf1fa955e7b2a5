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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
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

    private final Path socketPath;
    private final HandlerRegistry handlers;
    private final PeerPolicy peers;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicInteger connectionIds = new AtomicInteger();
    private final ExecutorService connections = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "rpc-conn-" + connectionIds.incrementAndGet());
        t.setDaemon(true);
        return t;
    });
    private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "rpc-timer");
        t.setDaemon(true);
        return t;
    });
    private ServerSocketChannel server;
    private Thread acceptThread;

    public RpcServer(Path socketPath, HandlerRegistry handlers, PeerPolicy peers) {
        this.socketPath = socketPath;
        this.handlers = handlers;
        this.peers = peers;
    }

    /**
     * Binds the socket (replacing a stale socket file; the caller holds the state lock, so no live daemon owns
     * it), restricts it to 0600 (0660 with a socket group) and starts accepting.
     */
    public void start() throws IOException {
        Files.deleteIfExists(socketPath);
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socketPath));
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
        log.info("listening on {} for {}", socketPath, peers.describe());
    }

    private void acceptLoop() {
        while (!closed.get()) {
            SocketChannel client;
            try {
                client = server.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (!closed.get()) {
                    log.warn("accept failed: {}", e.toString());
                }
                continue;
            }
            try {
                connections.execute(() -> serve(client));
            } catch (RuntimeException e) {
                closeQuietly(client);
            }
        }
    }

    private void serve(SocketChannel socket) {
        FrameChannel frames = new FrameChannel(socket);
        ScheduledFuture<?> requestTimeout = timers.schedule(() -> closeQuietly(socket),
                REQUEST_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        String method = "?";
        try {
            UnixDomainPrincipal peer = socket.getOption(ExtendedSocketOptions.SO_PEERCRED);
            if (!peers.allows(peer.user())) {
                log.warn("refused connection from user {}", peer.user().getName());
                sendError(frames, new BangerException(ErrorCode.PERMISSION_DENIED,
                        "user " + peer.user().getName() + " may not use this daemon (allowed: "
                                + peers.describe() + ")"));
                return;
            }
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
            method = request.method() == null ? "(none)" : request.method();
            HandlerRegistry.Registered<?, ?> registered = handlers.lookup(method);
            if (registered == null) {
                sendError(frames, new BangerException(ErrorCode.UNKNOWN_METHOD,
                        "unknown method '" + method + "'; is the CLI newer than the daemon? try: banger daemon stop"));
                return;
            }
            invoke(registered, request.params(), frames);
        } catch (IOException e) {
            log.debug("connection ended during {}: {}", method, e.toString());
        } finally {
            requestTimeout.cancel(false);
            closeQuietly(socket);
        }
    }

    private <Q, R> void invoke(HandlerRegistry.Registered<Q, R> registered, Object params, FrameChannel frames)
            throws IOException {
        Q request;
        try {
            request = Json.fromTree(params == null ? java.util.Map.of() : params, registered.method().requestType());
        } catch (JsonException e) {
            sendError(frames, new BangerException(ErrorCode.INVALID_ARGUMENT,
                    "bad parameters for " + registered.method().name() + ": " + oneLine(e)));
            return;
        }
        ServerCall call = new ServerCall(frames);
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
            Files.deleteIfExists(socketPath);
        } catch (IOException e) {
            log.warn("could not remove {}: {}", socketPath, e.toString());
        }
        connections.shutdown();
        timers.shutdownNow();
        try {
            if (!connections.awaitTermination(5, TimeUnit.SECONDS)) {
                connections.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
