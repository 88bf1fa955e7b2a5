package dev.banger.testkit;

import java.io.Closeable;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

/**
 * A small recursive resolver stand-in for tests ("the outside world's DNS"): answers A queries for the names it
 * is given, NXDOMAIN for the rest, over UDP and TCP on one address. A name given with a leading {@code tc:} is
 * answered over UDP only with the truncated flag and no answer, so clients must retry over TCP. Run in-process, or
 * as a program inside a network namespace: {@code UpstreamDnsServer ADDRESS PORT NAME=IP...} (it prints "ready").
 */
public final class UpstreamDnsServer implements Closeable {

    private DatagramSocket udp;
    private ServerSocket tcp;
    private final Map<String, String> names = new HashMap<>();
    private final Map<String, Boolean> truncateOverUdp = new HashMap<>();
    private final AtomicInteger queries = new AtomicInteger();

    public UpstreamDnsServer(InetSocketAddress listen, Map<String, String> answers) throws IOException {
        answers.forEach((name, ip) -> {
            boolean tc = name.startsWith("tc:");
            String bare = (tc ? name.substring(3) : name).toLowerCase() + (name.endsWith(".") ? "" : ".");
            names.put(bare, ip);
            truncateOverUdp.put(bare, tc);
        });
        bindBoth(listen);
        daemon(this::udpLoop);
        daemon(this::tcpLoop);
    }

    /** One port for UDP and TCP; with port 0 the kernel's UDP pick may be held on TCP (a connection's end): pick again. */
    private void bindBoth(InetSocketAddress listen) throws IOException {
        int attempts = listen.getPort() == 0 ? 20 : 1;
        for (int attempt = 1; ; attempt++) {
            DatagramSocket u = new DatagramSocket(listen);
            ServerSocket t = new ServerSocket();
            try {
                t.setReuseAddress(true);
                t.bind(new InetSocketAddress(listen.getAddress(), u.getLocalPort()));
                udp = u;
                tcp = t;
                return;
            } catch (IOException e) {
                t.close();
                u.close();
                if (attempt == attempts) {
                    throw e;
                }
            }
        }
    }

    public InetSocketAddress address() {
        return new InetSocketAddress(udp.getLocalAddress(), udp.getLocalPort());
    }

    /** Queries received so far, both transports. */
    public int queries() {
        return queries.get();
    }

    private void udpLoop() {
        byte[] buffer = new byte[65_535];
        while (!udp.isClosed()) {
            try {
                DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
                udp.receive(packet);
                byte[] response = respond(Arrays.copyOf(buffer, packet.getLength()), true);
                udp.send(new DatagramPacket(response, response.length, packet.getSocketAddress()));
            } catch (IOException e) {
                if (udp.isClosed()) {
                    return;
                }
            }
        }
    }

    private void tcpLoop() {
        while (!tcp.isClosed()) {
            try (Socket client = tcp.accept()) {
                DataInputStream in = new DataInputStream(client.getInputStream());
                byte[] query = new byte[in.readUnsignedShort()];
                in.readFully(query);
                byte[] response = respond(query, false);
                OutputStream out = client.getOutputStream();
                out.write(new byte[] {(byte) (response.length >>> 8), (byte) response.length});
                out.write(response);
                out.flush();
            } catch (IOException e) {
                if (tcp.isClosed()) {
                    return;
                }
            }
        }
    }

    private byte[] respond(byte[] query, boolean overUdp) throws IOException {
        queries.incrementAndGet();
        Message request = new Message(query);
        Message response = new Message(request.getHeader().getID());
        response.getHeader().setFlag(Flags.QR);
        response.getHeader().setFlag(Flags.RD);
        response.getHeader().setFlag(Flags.RA);
        Record question = request.getQuestion();
        response.addRecord(question, Section.QUESTION);
        String name = question.getName().toString().toLowerCase();
        String ip = names.get(name);
        if (ip == null) {
            response.getHeader().setRcode(Rcode.NXDOMAIN);
        } else if (overUdp && truncateOverUdp.get(name)) {
            response.getHeader().setFlag(Flags.TC);
        } else if (question.getType() == Type.A) {
            response.addRecord(new ARecord(question.getName(), DClass.IN, 60, InetAddress.getByName(ip)),
                    Section.ANSWER);
        }
        return response.toWire();
    }

    private static void daemon(Runnable loop) {
        Thread t = new Thread(loop, "upstream-dns");
        t.setDaemon(true);
        t.start();
    }

    @Override
    public void close() {
        udp.close();
        try {
            tcp.close();
        } catch (IOException ignored) {
            // Closing.
        }
    }

    /** {@code ADDRESS PORT NAME=IP...}: serves until killed. */
    public static void main(String[] args) throws Exception {
        Map<String, String> answers = new HashMap<>();
        for (int i = 2; i < args.length; i++) {
            String[] pair = args[i].split("=", 2);
            answers.put(pair[0], pair[1]);
        }
        try (UpstreamDnsServer server = new UpstreamDnsServer(
                new InetSocketAddress(InetAddress.getByName(args[0]), Integer.parseInt(args[1])), answers)) {
            System.out.println("ready " + server.address());
            System.out.flush();
            Thread.sleep(Long.MAX_VALUE);
        }
    }
}
