package dev.banger.guest;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A file copy's archive over TCP on the guest's network instead of the agent channel (docs/agent-protocol.md, "The
 * archive over TCP"). Under QEMU the channel is a virtio-serial port whose host side moves 4 KiB per trip through
 * QEMU's main loop; a TCP stream over virtio-net costs a fraction of that per byte.
 *
 * <p>The OPEN asks for it with the guest's address and a fresh token; the agent listens there and answers with a
 * TRANSPORT frame naming the port; this side connects, sends the token and waits for the helper's one-byte
 * acceptance. Anything short of that falls back to the channel, which the helper also watches: data or EOF on its
 * stdin tells it the host did not connect. Only the archive moves this way: the verdict still comes as RESULT.
 */
final class CopyConnection {

    private static final Logger LOG = LoggerFactory.getLogger(CopyConnection.class);
    private static final SecureRandom RANDOM = new SecureRandom();
    static final int TOKEN_BYTES = 16;
    /** The byte the guest's helper answers a right token with. */
    static final int ACCEPTED = 'K';
    /** The agent answers at once; this only bounds a stuck agent (the copy then falls back and fails there). */
    private static final Duration TRANSPORT_WAIT = Duration.ofSeconds(10);
    /** A guest that drops the connection (a firewall) costs this much before the copy falls back. */
    private static final int CONNECT_TIMEOUT_MS = 1000;
    /** The helper accepts as soon as it is scheduled; a guest under load gets long. */
    private static final int ACCEPT_TIMEOUT_MS = 10_000;

    private CopyConnection() {
    }

    /** What the OPEN carries: where the guest listens and the token a connection must present. */
    record Offer(InetAddress address, byte[] token) {

        static Offer to(InetAddress address) {
            byte[] token = new byte[TOKEN_BYTES];
            RANDOM.nextBytes(token);
            return new Offer(address, token);
        }

        /** The request's {@code tcp} member. */
        Map<String, Object> wire() {
            Map<String, Object> tcp = new LinkedHashMap<>();
            tcp.put("address", address.getHostAddress());
            tcp.put("token", HexFormat.of().formatHex(token));
            return tcp;
        }
    }

    /**
     * A connection the guest's helper accepted, with its streams. The channel's failure hook closes the socket
     * (a relay blocked on it returns); the streams were taken before the hook was set, since a verdict that came
     * already (a refused or missing path) runs the hook at once and a closed socket has no streams: reading or
     * writing one closed by the hook fails instead, and the copy reports the verdict.
     */
    record Accepted(Socket socket, InputStream in, OutputStream out) {
    }

    /**
     * Waits for the agent's TRANSPORT frame on {@code channel} and connects as it says.
     *
     * @return the connection, accepted by the guest's helper; null when the copy goes on the channel (an agent
     *     that does not know TCP copies, no listener, no connection), which the caller then uses
     * @throws IOException when the guest did not accept a connection that sent the token (within 10 s): the copy
     *     has failed, and the caller cancels the channel
     */
    static Accepted establish(AgentChannel<?> channel, Offer offer, String description)
            throws IOException, InterruptedException {
        byte[] notice = channel.awaitTransport(TRANSPORT_WAIT);
        if (notice == null) {
            LOG.debug("{}: the agent did not offer a TCP port; the archive goes on the channel", description);
            return null;
        }
        int port;
        String why;
        try {
            Map<?, ?> fields = Json.parse(new Frame(FrameType.TRANSPORT, 0, notice));
            port = (int) Json.number(fields, "tcp_port", 0);
            why = Json.text(fields, "why", "no reason given");
        } catch (AgentException e) {
            LOG.warn("{}: {}; the archive goes on the channel", description, e.getMessage());
            return null;
        }
        if (port <= 0 || port > 0xFFFF) {
            LOG.info("{}: the guest does not listen for it ({}); the archive goes on the channel", description, why);
            return null;
        }
        InetSocketAddress at = new InetSocketAddress(offer.address(), port);
        String where = offer.address().getHostAddress() + ":" + port; // InetSocketAddress prints "host/ip:port"
        Socket socket = new Socket();
        try {
            socket.connect(at, CONNECT_TIMEOUT_MS);
        } catch (IOException e) {
            // Nothing was sent: the helper is still waiting for either, and the channel is the other.
            LOG.info("{}: no TCP connection to {} ({}); the archive goes on the channel", description, where,
                    e.toString());
            closeQuietly(socket);
            return null;
        }
        try {
            socket.setSoTimeout(ACCEPT_TIMEOUT_MS);
            OutputStream out = socket.getOutputStream();
            out.write(offer.token());
            out.flush();
            InputStream in = socket.getInputStream();
            int answer = in.read();
            if (answer != ACCEPTED) {
                throw new IOException(answer < 0 ? "it closed the connection" : "it answered " + answer);
            }
            socket.setSoTimeout(0);
            channel.onFailure(() -> closeQuietly(socket)); // after the streams (Accepted)
            return new Accepted(socket, in, out);
        } catch (IOException e) {
            // The token is out: the helper may take this connection at any moment, so the channel is no longer an
            // option for this copy.
            closeQuietly(socket);
            throw new IOException("the guest did not accept the copy's connection to " + where + ": "
                    + e.getMessage(), e);
        }
    }

    static void closeQuietly(Socket socket) {
        if (socket == null) {
            return;
        }
        try {
            socket.close();
        } catch (IOException e) {
            LOG.debug("closing a copy's connection: {}", e.toString());
        }
    }
}
