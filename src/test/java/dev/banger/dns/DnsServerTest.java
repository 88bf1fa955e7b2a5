package dev.banger.dns;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Opcode;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

/** The server on 127.0.0.1 (a free port), asked by dnsjava's own resolver as any DNS client would. */
class DnsServerTest {

    private final DnsRecords records = DnsRecords.inMemory();
    private DnsServer server;
    private SimpleResolver resolver;

    @BeforeEach
    void start() throws Exception {
        server = new DnsServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), records);
        server.start();
        resolver = new SimpleResolver(server.address());
        resolver.setTimeout(Duration.ofSeconds(2));
        records.set("web", "172.30.77.2");
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void aRunningVmResolvesToItsIp() throws Exception {
        Message response = ask("web.vm.", Type.A);

        assertThat(response.getRcode()).isEqualTo(Rcode.NOERROR);
        assertThat(response.getHeader().getFlag(Flags.AA)).as("authoritative for vm.").isTrue();
        assertThat(answers(response)).containsExactly("172.30.77.2");
    }

    @Test
    void namesAreCaseInsensitiveAndTheQuestionIsEchoedAsAsked() throws Exception {
        Message response = ask("WeB.Vm.", Type.A);

        assertThat(answers(response)).containsExactly("172.30.77.2");
        assertThat(response.getQuestion().getName().toString()).isEqualTo("WeB.Vm.");
    }

    @Test
    void aStoppedVmIsNxdomainAndSoIsAnyUnknownName() throws Exception {
        records.remove("web");

        assertThat(ask("web.vm.", Type.A).getRcode()).isEqualTo(Rcode.NXDOMAIN);
        assertThat(ask("nope.vm.", Type.A).getRcode()).isEqualTo(Rcode.NXDOMAIN);
        assertThat(ask("a.b.vm.", Type.A).getRcode()).isEqualTo(Rcode.NXDOMAIN);
        assertThat(ask("nope.vm.", Type.A).getSection(Section.AUTHORITY)).as("SOA for negative caching")
                .extracting(Record::getType).containsExactly(Type.SOA);
    }

    @Test
    void namesOutsideVmAreRefused() throws Exception {
        assertThat(ask("example.com.", Type.A).getRcode()).isEqualTo(Rcode.REFUSED);
        assertThat(ask("web.vm.example.com.", Type.A).getRcode()).isEqualTo(Rcode.REFUSED);
        assertThat(ask("vm.", Type.NS).getRcode()).as("the zone itself is ours").isEqualTo(Rcode.NOERROR);
    }

    @Test
    void aaaaOfAKnownNameIsNoErrorWithoutAnswers() throws Exception {
        Message response = ask("web.vm.", Type.AAAA);

        assertThat(response.getRcode()).isEqualTo(Rcode.NOERROR);
        assertThat(response.getSection(Section.ANSWER)).isEmpty();
    }

    @Test
    void recordsFollowTheVmService() throws Exception {
        records.set("db", "172.30.77.9");
        assertThat(answers(ask("db.vm.", Type.A))).containsExactly("172.30.77.9");

        records.set("db", "172.30.77.10");
        assertThat(answers(ask("db.vm.", Type.A))).containsExactly("172.30.77.10");
    }

    @Test
    void tcpAnswersToo() throws Exception {
        resolver.setTCP(true);

        assertThat(answers(ask("web.vm.", Type.A))).containsExactly("172.30.77.2");
        assertThat(ask("example.com.", Type.A).getRcode()).isEqualTo(Rcode.REFUSED);
    }

    @Test
    void severalQueriesShareOneTcpConnection() throws Exception {
        try (Socket s = new Socket(server.address().getAddress(), server.address().getPort())) {
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            DataInputStream in = new DataInputStream(s.getInputStream());
            for (String name : List.of("web.vm.", "nope.vm.")) {
                byte[] query = Message.newQuery(Record.newRecord(Name.fromString(name), Type.A, DClass.IN)).toWire();
                out.writeShort(query.length);
                out.write(query);
                out.flush();
                byte[] answer = new byte[in.readUnsignedShort()];
                in.readFully(answer);
                assertThat(new Message(answer).getRcode()).isEqualTo(name.startsWith("web") ? Rcode.NOERROR
                        : Rcode.NXDOMAIN);
            }
        }
    }

    @Test
    void garbageNeverStopsTheServer() throws Exception {
        Random random = new Random(7);
        try (DatagramSocket socket = new DatagramSocket()) {
            socket.setSoTimeout(2000);
            for (int i = 0; i < 200; i++) {
                byte[] junk = new byte[1 + random.nextInt(64)];
                random.nextBytes(junk);
                junk[junk.length > 2 ? 2 : 0] &= (byte) 0x7f; // Mostly queries, so most get a FORMERR back.
                socket.send(new DatagramPacket(junk, junk.length, server.address()));
            }
            byte[] truncated = Message.newQuery(Record.newRecord(Name.fromString("web.vm."), Type.A, DClass.IN))
                    .toWire();
            socket.send(new DatagramPacket(truncated, 14, server.address()));
            byte[] buf = new byte[512];
            DatagramPacket reply = new DatagramPacket(buf, buf.length);
            boolean sawFormErr = false;
            for (int i = 0; i < 200 && !sawFormErr; i++) {
                socket.receive(reply);
                sawFormErr = (buf[3] & 0x0f) == Rcode.FORMERR;
            }
            assertThat(sawFormErr).as("an unparseable query gets FORMERR").isTrue();
        }
        try (Socket s = new Socket(server.address().getAddress(), server.address().getPort())) {
            s.getOutputStream().write(new byte[] {0, 3, 1, 2, 3}); // A 3-byte "message" over TCP.
            s.getOutputStream().flush();
        }

        assertThat(answers(ask("web.vm.", Type.A))).as("still answering").containsExactly("172.30.77.2");
    }

    @Test
    void responsesAreNeverAnswered() throws Exception {
        Message notAQuery = Message.newQuery(Record.newRecord(Name.fromString("web.vm."), Type.A, DClass.IN));
        notAQuery.getHeader().setFlag(Flags.QR);
        try (DatagramSocket socket = new DatagramSocket()) {
            socket.setSoTimeout(300);
            byte[] wire = notAQuery.toWire();
            socket.send(new DatagramPacket(wire, wire.length, server.address()));
            DatagramPacket reply = new DatagramPacket(new byte[512], 512);
            assertThat(receives(socket, reply)).as("no reply to a response: no loops").isFalse();
        }
    }

    @Test
    void otherOpcodesAreNotImplemented() throws Exception {
        Message update = Message.newQuery(Record.newRecord(Name.fromString("web.vm."), Type.A, DClass.IN));
        update.getHeader().setOpcode(Opcode.NOTIFY);

        assertThat(resolver.send(update).getRcode()).isEqualTo(Rcode.NOTIMP);
    }

    private Message ask(String name, int type) throws Exception {
        return resolver.send(Message.newQuery(Record.newRecord(Name.fromString(name), type, DClass.IN)));
    }

    private static List<String> answers(Message response) {
        return response.getSection(Section.ANSWER).stream().filter(r -> r instanceof ARecord)
                .map(r -> ((ARecord) r).getAddress().getHostAddress()).toList();
    }

    private static boolean receives(DatagramSocket socket, DatagramPacket packet) throws Exception {
        try {
            socket.receive(packet);
            return true;
        } catch (java.net.SocketTimeoutException e) {
            return false;
        }
    }
}
