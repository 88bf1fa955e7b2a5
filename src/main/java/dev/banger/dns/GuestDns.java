package dev.banger.dns;

import dev.banger.host.network.NetworkConfig;
import java.io.Closeable;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The DNS server guests use: port 53 of the host's bridge address (what their resolv.conf names), answering
 * {@code NAME.vm} from the same records as the host's server and forwarding other names from the guest subnet to
 * the host's upstream resolvers ({@link Upstreams}). The address exists only once the bridge does, so the server
 * starts at the first {@link #bridgeUp} (every VM boot calls it; after the first it costs nothing) and, at daemon
 * start, when the bridge is already there. A failed bind (port 53 taken by a resolver listening on every address)
 * is logged once per reason and retried at the next boot; it never fails a boot.
 */
public final class GuestDns implements Closeable {

    private static final Logger log = LoggerFactory.getLogger(GuestDns.class);
    static final int PORT = 53;
    static final Duration UPSTREAM_TIMEOUT = Duration.ofSeconds(2);

    private final InetSocketAddress listen;
    private final DnsRecords records;
    private final NetworkConfig network;
    private final Upstreams upstreams;
    private DnsServer server;
    private String lastFailure;
    private boolean closed;

    GuestDns(InetSocketAddress listen, DnsRecords records, NetworkConfig network, Upstreams upstreams) {
        this.listen = listen;
        this.records = records;
        this.network = network;
        this.upstreams = upstreams;
    }

    /** The server for this host: {@code HOST_ADDRESS:53}, forwarding to the host's resolvers. */
    public static GuestDns forHost(DnsRecords records, NetworkConfig network) {
        InetSocketAddress listen;
        try {
            listen = new InetSocketAddress(InetAddress.getByName(network.hostAddress()), PORT);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException("bridge address " + network.hostAddress() + ": " + e.getMessage(), e);
        }
        return new GuestDns(listen, records, network, Upstreams.forHost());
    }

    /** Starts serving if it does not yet; never throws. */
    public synchronized void bridgeUp() {
        if (server != null || closed) {
            return;
        }
        DnsServer candidate = new DnsServer(listen, records, new DnsForwarder(upstreams::servers, UPSTREAM_TIMEOUT),
                this::inGuestSubnet);
        try {
            candidate.start();
            server = candidate;
            if (upstreams.servers().isEmpty()) {
                log.warn("no upstream resolver in {}: guests resolve *.vm only", upstreams.describe());
            }
        } catch (IOException e) {
            candidate.close();
            String why = e.getMessage();
            if (!why.equals(lastFailure)) {
                log.warn("{}; guests cannot resolve names (is another DNS server bound to port 53 on every "
                        + "address?)", why);
                lastFailure = why;
            }
        }
    }

    /** Where it listens once started, for tests and status. */
    public InetSocketAddress address() {
        return listen;
    }

    private boolean inGuestSubnet(InetAddress client) {
        return client instanceof Inet4Address && network.subnet().offsetOf(client.getHostAddress()) >= 0;
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (server != null) {
            server.close();
            server = null;
        }
    }
}
