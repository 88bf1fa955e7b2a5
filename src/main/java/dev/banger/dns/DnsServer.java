package dev.banger.dns;

import java.io.Closeable;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * banger's DNS server for {@code NAME.vm} (see {@link DnsAnswerer} for what it answers), on one address over UDP
 * and TCP. With a {@link DnsForwarder} (the server on the bridge, for guests), other names from clients the
 * {@code mayForward} test admits (the guest subnet: never an open resolver for whoever can route to the bridge
 * address) are relayed upstream. Threads are bounded: one for UDP (local answers are computed in memory, so one
 * thread keeps up), at most {@value #FORWARD_WORKERS} relaying UDP queries upstream (queries beyond their queue are
 * dropped, and the client retries), one accepting TCP, and at most {@value #TCP_WORKERS} serving TCP connections
 * (more are closed at once). A malformed packet costs only its own answer (FORMERR) and never stops the server.
 */
public final class DnsServer implements Closeable {

    private static final Logger log = LoggerFactory.getLogger(DnsServer.class);
    static final int TCP_WORKERS = 4;
    static final int TCP_IDLE_MS = 5_000;
    /** Queries one TCP connection may send before it is closed. */
    static final int TCP_MAX_QUERIES = 100;
    private static final int UDP_PLAIN_LIMIT = 512;
    static final int FORWARD_WORKERS = 8;
    static final int FORWARD_QUEUE = 64;
    /** Free ports tried, when any port will do, for one that UDP and TCP both have free. */
    private static final int PICK_PORT_ATTEMPTS = 20;

    private final InetSocketAddress requested;
    private final DnsAnswerer answerer;
    private final DnsForwarder forwarder;
    private final Predicate<InetAddress> mayForward;
    private ThreadPoolExecutor forwardWorkers;
    private final AtomicBoolean closed = new AtomicBoolean();
    private DatagramChannel udp;
    private ServerSocket tcp;
    private ThreadPoolExecutor tcpWorkers;
    private InetSocketAddress bound;

    /** @param listen where to listen; port 0 picks a free port (the same one for UDP and TCP) */
    public DnsServer(InetSocketAddress listen, DnsRecords records) {
        this(listen, records, null, address -> false);
    }

    /**
     * @param forwarder relays names outside {@code vm.}, or null to refuse them
     * @param mayForward which clients' queries are relayed; the others get REFUSED for names outside {@code vm.}
     */
    DnsServer(InetSocketAddress listen, DnsRecords records, DnsForwarder forwarder,
              Predicate<InetAddress> mayForward) {
        this.requested = listen;
        this.answerer = new DnsAnswerer(records);
        this.forwarder = forwarder;
        this.mayForward = mayForward;
    }

    /**
     * Binds UDP, then TCP on the same port, and starts serving. TCP is best effort: when its port is taken, the
     * server runs on UDP alone and says so in the log.
     *
     * @throws IOException when the UDP address cannot be bound (in use, or not a local address)
     */
    public synchronized void start() throws IOException {
        // Port 0: the kernel picks a free UDP port, which TCP may hold (another listener, or a connection's local
        // end); pick again then, so UDP and TCP share a port as promised.
        int attempts = requested.getPort() == 0 ? PICK_PORT_ATTEMPTS : 1;
        IOException tcpFailure = null;
        for (int attempt = 1; attempt <= attempts; attempt++) {
            if (attempt > 1) {
                udp.close();
            }
            bindUdp();
            tcpFailure = bindTcp();
            if (tcpFailure == null) {
                break;
            }
        }
        if (forwarder != null) {
            forwardWorkers = new ThreadPoolExecutor(FORWARD_WORKERS, FORWARD_WORKERS, 30, TimeUnit.SECONDS,
                    new ArrayBlockingQueue<>(FORWARD_QUEUE), r -> daemonThread(r, "dns-forward"));
            forwardWorkers.allowCoreThreadTimeOut(true);
        }
        if (tcpFailure != null) {
            log.warn("DNS over TCP unavailable on {}: {}; serving UDP only", ResolvedRoute.format(bound),
                    tcpFailure.getMessage());
        } else {
            tcpWorkers = new ThreadPoolExecutor(TCP_WORKERS, TCP_WORKERS, 30, TimeUnit.SECONDS,
                    new ArrayBlockingQueue<>(TCP_WORKERS), r -> daemonThread(r, "dns-tcp"));
            tcpWorkers.allowCoreThreadTimeOut(true);
            daemonThread(this::acceptLoop, "dns-tcp-accept").start();
        }
        daemonThread(this::udpLoop, "dns-udp").start();
        log.info("DNS for *.vm{} listening on {} ({})", forwarder != null ? " (other names forwarded)" : "",
                ResolvedRoute.format(bound), tcp != null ? "UDP and TCP" : "UDP");
    }

    private void bindUdp() throws IOException {
        udp = DatagramChannel.open();
        try {
            udp.bind(requested);
        } catch (IOException e) {
            udp.close();
            throw new IOException("cannot listen for DNS on UDP " + ResolvedRoute.format(requested) + ": "
                    + e.getMessage(), e);
        }
        bound = (InetSocketAddress) udp.getLocalAddress();
    }

    /** Binds TCP on UDP's port: null, or why it could not (then {@code tcp} stays null). */
    private IOException bindTcp() {
        try {
            tcp = new ServerSocket();
            tcp.setReuseAddress(true);
            tcp.bind(bound);
            return null;
        } catch (IOException e) {
            closeQuietly(tcp);
            tcp = null;
            return e;
        }
    }

    /** The bound address (with the real port when 0 was asked for). */
    public InetSocketAddress address() {
        if (bound == null) {
            throw new IllegalStateException("the DNS server has not started");
        }
        return bound;
    }

    private void udpLoop() {
        ByteBuffer buffer = ByteBuffer.allocate(65_535);
        while (!closed.get()) {
            SocketAddress client;
            try {
                client = udp.receive(buffer.clear());
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                log.warn("DNS receive failed: {}", e.toString());
                continue;
            }
            try {
                byte[] query = Arrays.copyOf(buffer.array(), buffer.position());
                if (forwards(client, query)) {
                    SocketAddress to = client;
                    try {
                        forwardWorkers.execute(() -> relay(query, to));
                    } catch (RejectedExecutionException e) {
                        log.debug("DNS forwarding busy; query from {} dropped", client);
                    }
                    continue;
                }
                Optional<byte[]> response = answerer.answer(query, UDP_PLAIN_LIMIT);
                if (response.isPresent()) {
                    udp.send(ByteBuffer.wrap(response.get()), client);
                }
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException | RuntimeException e) {
                log.debug("DNS query from {} dropped: {}", client, e.toString());
            }
        }
    }

    private boolean forwards(SocketAddress client, byte[] query) {
        return forwarder != null && client instanceof InetSocketAddress c && mayForward.test(c.getAddress())
                && DnsAnswerer.forwardable(query);
    }

    private void relay(byte[] query, SocketAddress client) {
        try {
            udp.send(ByteBuffer.wrap(forwarder.forward(query)), client);
        } catch (IOException | RuntimeException e) {
            log.debug("DNS answer to {} not sent: {}", client, e.toString());
        }
    }

    private void acceptLoop() {
        while (!closed.get()) {
            Socket client;
            try {
                client = tcp.accept();
            } catch (IOException e) {
                if (closed.get()) {
                    return;
                }
                log.warn("DNS accept failed: {}", e.toString());
                continue;
            }
            try {
                tcpWorkers.execute(() -> serveTcp(client));
            } catch (RejectedExecutionException e) {
                closeQuietly(client); // Busy: the client retries or falls back.
            }
        }
    }

    /** RFC 7766: each message is preceded by its 2-byte length; several queries may share a connection. */
    private void serveTcp(Socket client) {
        try (client) {
            client.setSoTimeout(TCP_IDLE_MS);
            DataInputStream in = new DataInputStream(client.getInputStream());
            OutputStream out = client.getOutputStream();
            for (int served = 0; served < TCP_MAX_QUERIES && !closed.get(); served++) {
                int length;
                try {
                    length = in.readUnsignedShort();
                } catch (EOFException | SocketTimeoutException e) {
                    return;
                }
                byte[] query = new byte[length];
                in.readFully(query);
                Optional<byte[]> response = forwards(client.getRemoteSocketAddress(), query)
                        ? Optional.of(forwarder.forward(query)) : answerer.answer(query, 65_535);
                if (response.isEmpty()) {
                    return;
                }
                byte[] body = response.get();
                byte[] framed = new byte[body.length + 2];
                framed[0] = (byte) (body.length >>> 8);
                framed[1] = (byte) body.length;
                System.arraycopy(body, 0, framed, 2, body.length);
                out.write(framed);
                out.flush();
            }
        } catch (IOException | RuntimeException e) {
            log.debug("DNS TCP connection ended: {}", e.toString());
        }
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        closeQuietly(udp);
        closeQuietly(tcp);
        if (tcpWorkers != null) {
            tcpWorkers.shutdownNow();
        }
        if (forwardWorkers != null) {
            forwardWorkers.shutdownNow();
        }
    }

    private static Thread daemonThread(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    private static void closeQuietly(Closeable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (IOException ignored) {
            // Nothing to do.
        }
    }
}
