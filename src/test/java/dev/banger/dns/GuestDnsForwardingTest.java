package dev.banger.dns;

import static org.assertj.core.api.Assertions.assertThat;

import dev.banger.testkit.UpstreamDnsServer;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

/**
 * The forwarding server guests use, on loopback: *.vm from the records, other names through a real (test) upstream
 * over UDP, TCP when truncated, SERVFAIL when the upstream is silent, REFUSED for clients outside the guest subnet.
 */
class GuestDnsForwardingTest {

    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    private final DnsRecords records = DnsRecords.inMemory();
    private UpstreamDnsServer upstream;
    private DnsServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
        if (upstream != null) {
            upstream.close();
        }
    }

    @Test
    void vmNamesAreLocalAndOtherNamesGoUpstreamOverUdpThenTcp() throws Exception {
        upstream = new UpstreamDnsServer(new InetSocketAddress(LOOPBACK, 0),
                Map.of("example.test", "198.18.7.2", "tc:big.test", "198.18.7.9"));
        start(List.of(upstream.address()), true);
        records.set("web", "172.30.77.2");

        assertThat(answers(ask("web.vm."))).containsExactly("172.30.77.2");
        int afterLocal = upstream.queries();
        assertThat(answers(ask("example.test."))).containsExactly("198.18.7.2");
        assertThat(answers(ask("big.test."))).as("truncated over UDP, answered over TCP")
                .containsExactly("198.18.7.9");
        assertThat(ask("nothing.test.").getRcode()).isEqualTo(Rcode.NXDOMAIN);
        assertThat(afterLocal).as("*.vm never goes upstream").isZero();
        assertThat(upstream.queries()).isEqualTo(4);
    }

    @Test
    void aSilentUpstreamGivesServfailWithinTheTimeout() throws Exception {
        try (DatagramSocket silent = new DatagramSocket(new InetSocketAddress(LOOPBACK, 0))) {
            start(List.of(new InetSocketAddress(LOOPBACK, silent.getLocalPort())), true);
            long t0 = System.nanoTime();

            Message response = ask("example.test.");

            assertThat(response.getRcode()).isEqualTo(Rcode.SERVFAIL);
            assertThat(response.getQuestion().getName().toString()).isEqualTo("example.test.");
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(2));
        }
    }

    @Test
    void clientsOutsideTheGuestSubnetAreRefused() throws Exception {
        upstream = new UpstreamDnsServer(new InetSocketAddress(LOOPBACK, 0), Map.of("example.test", "198.18.7.2"));
        start(List.of(upstream.address()), false);

        assertThat(ask("example.test.").getRcode()).isEqualTo(Rcode.REFUSED);
        assertThat(upstream.queries()).isZero();
    }

    @Test
    void upstreamsSkipLoopbackStubsAndFallBackToResolvedsList(@TempDir Path dir) throws Exception {
        Path etc = Files.writeString(dir.resolve("resolv.conf"),
                "# generated\nnameserver 127.0.0.53\noptions edns0\nsearch lan\n");
        Path resolved = Files.writeString(dir.resolve("resolved.conf"),
                "nameserver 10.1.2.3\nnameserver fe80::1%eth0\nnameserver 2001:db8::53\nnameserver ::1\n");
        Path direct = Files.writeString(dir.resolve("direct.conf"), "nameserver 10.9.9.9\nnameserver host.name\n");

        assertThat(new Upstreams(etc, resolved).servers()).containsExactly(
                new InetSocketAddress("10.1.2.3", 53), new InetSocketAddress("2001:db8::53", 53));
        assertThat(new Upstreams(direct, resolved).servers()).as("/etc/resolv.conf wins when it names real servers")
                .containsExactly(new InetSocketAddress("10.9.9.9", 53));
        assertThat(new Upstreams(etc, dir.resolve("absent")).servers()).isEmpty();
    }

    /**
     * A stub resolver (busybox nslookup, glibc with both families) sends A and AAAA back to back from one socket and
     * waits for both: each must be answered.
     */
    @Test
    void queriesSentBackToBackFromOneSocketAreEachAnswered() throws Exception {
        upstream = new UpstreamDnsServer(new InetSocketAddress(LOOPBACK, 0), Map.of("example.test", "198.18.7.2"));
        start(List.of(upstream.address()), true);
        try (DatagramSocket client = new DatagramSocket(new InetSocketAddress(LOOPBACK, 0))) {
            client.setSoTimeout(3_000);
            Message a = Message.newQuery(Record.newRecord(Name.fromString("example.test."), Type.A, DClass.IN));
            Message aaaa = Message.newQuery(Record.newRecord(Name.fromString("example.test."), Type.AAAA,
                    DClass.IN));
            for (Message query : List.of(a, aaaa)) {
                byte[] wire = query.toWire();
                client.send(new java.net.DatagramPacket(wire, wire.length, server.address()));
            }
            java.util.Set<Integer> answered = new java.util.HashSet<>();
            for (int i = 0; i < 2; i++) {
                java.net.DatagramPacket reply = new java.net.DatagramPacket(new byte[512], 512);
                client.receive(reply);
                answered.add(new Message(java.util.Arrays.copyOf(reply.getData(), reply.getLength())).getHeader()
                        .getID());
            }
            assertThat(answered).containsExactlyInAnyOrder(a.getHeader().getID(), aaaa.getHeader().getID());
        }
    }

    private void start(List<InetSocketAddress> upstreams, boolean clientsAllowed) throws Exception {
        server = new DnsServer(new InetSocketAddress(LOOPBACK, 0), records,
                new DnsForwarder(() -> upstreams, Duration.ofMillis(300)), client -> clientsAllowed);
        server.start();
    }

    private Message ask(String name) throws Exception {
        SimpleResolver resolver = new SimpleResolver(server.address());
        resolver.setTimeout(Duration.ofSeconds(3));
        return resolver.send(Message.newQuery(Record.newRecord(Name.fromString(name), Type.A, DClass.IN)));
    }

    private static List<String> answers(Message response) {
        return response.getSection(Section.ANSWER).stream().filter(r -> r instanceof ARecord)
                .map(r -> ((ARecord) r).getAddress().getHostAddress()).toList();
    }
}
