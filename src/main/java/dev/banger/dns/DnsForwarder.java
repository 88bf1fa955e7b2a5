package dev.banger.dns;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

/**
 * Relays a query banger does not answer itself to the host's upstream resolvers, bytes as they are: over UDP from
 * a fresh socket (a random source port per query, and only the upstream's reply with the query's id is taken),
 * retried over TCP when the reply is truncated. Upstreams are tried in order, each within {@link #timeout}; when
 * none answers the client gets SERVFAIL. Bounded: at most {@code upstreams × (UDP + TCP)} timeouts per query.
 */
final class DnsForwarder {

    private static final int MAX_MESSAGE = 65_535;
    private static final int HEADER_BYTES = 12;
    private static final int RCODE_SERVFAIL = 2;
    /** Upstreams tried per query: resolv.conf honours three. */
    static final int MAX_UPSTREAMS = 3;

    private final Supplier<List<InetSocketAddress>> upstreams;
    private final Duration timeout;

    DnsForwarder(Supplier<List<InetSocketAddress>> upstreams, Duration timeout) {
        this.upstreams = upstreams;
        this.timeout = timeout;
    }

    /** The upstream's response to {@code query} (a well-formed query: the caller checked), or SERVFAIL. */
    byte[] forward(byte[] query) {
        List<InetSocketAddress> servers = upstreams.get();
        for (InetSocketAddress server : servers.subList(0, Math.min(servers.size(), MAX_UPSTREAMS))) {
            try {
                byte[] response = overUdp(server, query);
                if (truncated(response)) {
                    response = overTcp(server, query);
                }
                return response;
            } catch (IOException e) {
                // Silent or unreachable: the next upstream.
            }
        }
        return serverFailure(query);
    }

    private byte[] overUdp(InetSocketAddress server, byte[] query) throws IOException {
        try (DatagramSocket socket = new DatagramSocket()) {
            socket.setSoTimeout((int) timeout.toMillis());
            socket.connect(server);
            socket.send(new DatagramPacket(query, query.length));
            long deadline = System.nanoTime() + timeout.toNanos();
            byte[] buffer = new byte[MAX_MESSAGE];
            while (true) {
                DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
                socket.receive(packet);
                byte[] response = Arrays.copyOf(buffer, packet.getLength());
                if (answers(query, response)) {
                    return response;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new SocketTimeoutException("no matching reply from " + server);
                }
                socket.setSoTimeout((int) Math.max(1, left / 1_000_000));
            }
        }
    }

    /** RFC 7766 framing: a 2-byte length before each message. */
    private byte[] overTcp(InetSocketAddress server, byte[] query) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(server, (int) timeout.toMillis());
            socket.setSoTimeout((int) timeout.toMillis());
            OutputStream out = socket.getOutputStream();
            byte[] framed = new byte[query.length + 2];
            framed[0] = (byte) (query.length >>> 8);
            framed[1] = (byte) query.length;
            System.arraycopy(query, 0, framed, 2, query.length);
            out.write(framed);
            out.flush();
            DataInputStream in = new DataInputStream(socket.getInputStream());
            byte[] response = new byte[in.readUnsignedShort()];
            in.readFully(response);
            if (!answers(query, response)) {
                throw new IOException("a reply from " + server + " that does not answer the query");
            }
            return response;
        }
    }

    /** A response (QR set) with the query's id. */
    private static boolean answers(byte[] query, byte[] response) {
        return response.length >= HEADER_BYTES && response[0] == query[0] && response[1] == query[1]
                && (response[2] & 0x80) != 0;
    }

    private static boolean truncated(byte[] response) {
        return (response[2] & 0x02) != 0;
    }

    /** SERVFAIL with the query's id, opcode, RD flag and question, so stub resolvers accept it and move on. */
    static byte[] serverFailure(byte[] query) {
        byte[] out = Arrays.copyOf(query, query.length);
        out[2] = (byte) (0x80 | (query[2] & 0x79)); // QR, the opcode and RD as asked; AA and TC clear.
        out[3] = (byte) (0x80 | RCODE_SERVFAIL); // RA: banger recurses (through the upstreams) for guests.
        // Keep the question, drop every other section (and any OPT record with it).
        Arrays.fill(out, 6, HEADER_BYTES, (byte) 0);
        int end = questionEnd(query);
        if (end < 0) {
            out[4] = 0;
            out[5] = 0;
            end = HEADER_BYTES;
        }
        return Arrays.copyOf(out, end);
    }

    /** The offset just past the first question, or -1 when the query holds none that parses. */
    private static int questionEnd(byte[] query) {
        if (query.length <= HEADER_BYTES || ((query[4] & 0xff) << 8 | (query[5] & 0xff)) != 1) {
            return -1;
        }
        int at = HEADER_BYTES;
        while (at < query.length) {
            int length = query[at] & 0xff;
            if (length == 0) {
                at += 1 + 4; // The root label, then type and class.
                return at <= query.length ? at : -1;
            }
            if ((length & 0xc0) != 0) {
                return -1; // A compression pointer has no place in a query's question.
            }
            at += 1 + length;
        }
        return -1;
    }
}
