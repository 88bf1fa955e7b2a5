package dev.banger.guest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * file.read and file.write with the archive over TCP (docs/agent-protocol.md, "The archive over TCP"), against the
 * real banger-init in agent mode listening on 127.0.0.1: the copy itself, who gets in, and every way back to the
 * channel.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class AgentCopyOverTcpTest extends AgentTestBase {

    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    /** TEST-NET-1: never an address of this host, so the agent cannot listen there. */
    private static final String NOT_HERE = "192.0.2.1";

    @Test
    void aFileAndATreeGoBothWaysOverTcp() throws Exception {
        Path src = Files.createDirectory(dir.resolve("src"));
        Files.createDirectory(src.resolve("sub"));
        byte[] random = new byte[5 * 1024 * 1024 + 17];
        new Random(3).nextBytes(random);
        Files.write(src.resolve("big.bin"), random);
        Files.writeString(src.resolve("sub/small.txt"), "small\n");
        Files.createSymbolicLink(src.resolve("link"), Path.of("sub/small.txt"));
        Files.createDirectory(dir.resolve("dst"));

        FileCopyOut out = client.readFile(dir.resolve("src").toString(), LOOPBACK);
        FileCopyIn in = client.writeFile(dir.resolve("dst/copy").toString(), LOOPBACK);
        assertThat(out.overTcp()).as("the archive comes over TCP").isTrue();
        assertThat(in.overTcp()).as("the archive goes over TCP").isTrue();
        try (OutputStream to = in.archive()) {
            out.archive().transferTo(to);
        }
        CopyStats read = out.finish();
        CopyStats written = in.finish();

        assertThat(read).isEqualTo(new CopyStats(2, 2, 1, 0, random.length + 6, 0, List.of()));
        assertThat(written).isEqualTo(read);
        assertThat(Files.readAllBytes(dir.resolve("dst/copy/big.bin"))).isEqualTo(random);
        assertThat(Files.readString(dir.resolve("dst/copy/sub/small.txt"))).isEqualTo("small\n");
        assertThat(Files.readSymbolicLink(dir.resolve("dst/copy/link"))).isEqualTo(Path.of("sub/small.txt"));
    }

    @Test
    void refusalsAndMissingPathsReadTheSameOverTcp() throws Exception {
        Path dst = Files.createDirectory(dir.resolve("dst"));
        Path outside = Files.createDirectory(dir.resolve("outside"));

        FileCopyIn in = client.writeFile(dst.toString(), LOOPBACK);
        assertThat(in.overTcp()).isTrue();
        byte[] escaping = tar("a/../../outside/dotdot", "x");
        try {
            in.archive().write(escaping);
        } catch (IOException e) {
            // refused before the end: the verdict says why
        }
        assertThatThrownBy(in::finish).isInstanceOfSatisfying(AgentException.class,
                e -> assertThat(e.code()).isEqualTo(AgentError.UNSAFE_PATH));
        try (var listing = Files.list(outside)) {
            assertThat(listing.toList()).as("nothing escaped").isEmpty();
        }

        FileCopyOut missing = client.readFile(dir.resolve("absent").toString(), LOOPBACK);
        assertThat(missing.overTcp()).isTrue();
        assertReadsNotFound(missing);
        assertThat(client.ping().protocol()).as("the agent is fine").isEqualTo(1);
    }

    @Test
    void aVerdictThatComesAsTheConnectionIsMadeIsWhatTheCopySays() throws Exception {
        // A missing path fails in the guest right after it accepts the connection, so the verdict often closes
        // the connection while the host is still setting it up (about one try in five here). Whichever comes
        // first, the copy reports the guest's reason, never a closed socket.
        for (int i = 0; i < 100; i++) {
            assertReadsNotFound(client.readFile(dir.resolve("absent").toString(), LOOPBACK));

            FileCopyIn in = client.writeFile(dir.resolve("absent/dst").toString(), LOOPBACK);
            try (OutputStream archive = in.archive()) {
                archive.write(tar("x", "x"));
            } catch (IOException e) {
                // refused before the end: the verdict says why
            }
            assertThatThrownBy(in::finish).isInstanceOfSatisfying(AgentException.class,
                    e -> assertThat(e.code()).isEqualTo(AgentError.NOT_FOUND));
        }
    }

    /**
     * A copy out of a missing path: an empty archive, or (when the verdict came first and closed the connection
     * before its end was read) a read that reports the verdict; then the verdict.
     */
    private static void assertReadsNotFound(FileCopyOut copy) throws IOException {
        try {
            assertThat(copy.archive().readAllBytes()).isEmpty();
        } catch (AgentException e) {
            assertThat(e.code()).isEqualTo(AgentError.NOT_FOUND);
        }
        assertThatThrownBy(copy::finish).isInstanceOfSatisfying(AgentException.class,
                e -> assertThat(e.code()).isEqualTo(AgentError.NOT_FOUND));
    }

    @Test
    void losingTheAgentConnectionMidCopyBreaksTheTcpConnectionWithTheAgentsReason() throws Exception {
        Path big = dir.resolve("big.bin");
        try (OutputStream o = Files.newOutputStream(big)) {
            byte[] block = new byte[1 << 20];
            for (int i = 0; i < 64; i++) {
                o.write(block);
            }
        }
        FileCopyOut out = client.readFile(big.toString(), LOOPBACK);
        assertThat(out.overTcp()).isTrue();
        InputStream archive = out.archive();
        assertThat(archive.read(new byte[65536])).isPositive();

        client.close(); // as when the guest's VMM dies: the channel fails, and so must reads of its connection

        assertThatThrownBy(() -> archive.transferTo(OutputStream.nullOutputStream()))
                .isInstanceOf(AgentException.class).hasMessageContaining("closed");
    }

    @Test
    void whereTheAgentCannotListenTheCopyGoesOnTheChannel() throws Exception {
        Files.writeString(dir.resolve("f.txt"), "on the channel\n");
        InetAddress notHere = InetAddress.getByName(NOT_HERE);

        FileCopyOut out = client.readFile(dir.resolve("f.txt").toString(), notHere);
        assertThat(out.overTcp()).isFalse();
        byte[] archive = out.archive().readAllBytes();
        assertThat(out.finish().files()).isEqualTo(1);

        FileCopyIn in = client.writeFile(dir.resolve("g.txt").toString(), notHere);
        assertThat(in.overTcp()).isFalse();
        in.archive().write(archive);
        assertThat(in.finish().files()).isEqualTo(1);
        assertThat(Files.readString(dir.resolve("g.txt"))).isEqualTo("on the channel\n");
    }

    @Test
    void connectionsWithoutTheTokenAreDroppedAndTheHostsStillGetsIn() throws Exception {
        byte[] token = new byte[CopyConnection.TOKEN_BYTES];
        new Random(11).nextBytes(token);
        try (RawConnection raw = new RawConnection(agent.rawSocket())) {
            raw.hello();
            raw.send(FrameType.OPEN, 5, writeRequest(dir.resolve("landed.txt"), LOOPBACK.getHostAddress(), token));
            int port = transportPort(raw.nextOn(5));

            byte[] wrong = token.clone();
            wrong[0] ^= 1;
            try (Socket intruder = new Socket(LOOPBACK, port)) {
                intruder.getOutputStream().write(wrong);
                intruder.setSoTimeout(5000);
                assertThat(intruder.getInputStream().read()).as("a wrong token is closed on").isEqualTo(-1);
            }
            try (Socket silent = new Socket(LOOPBACK, port)) {
                silent.setSoTimeout(5000);
                assertThat(silent.getInputStream().read()).as("a silent connection is dropped").isEqualTo(-1);
            }
            try (Socket host = new Socket(LOOPBACK, port)) {
                host.getOutputStream().write(token);
                host.setSoTimeout(5000);
                InputStream answer = host.getInputStream();
                assertThat(answer.read()).isEqualTo(CopyConnection.ACCEPTED);
                host.getOutputStream().write(tar("anything", "over tcp\n"));
                host.shutdownOutput();
                Frame end = raw.next(f -> f.channel() == 5 && f.type() >= FrameType.RESULT, Duration.ofSeconds(10));
                assertThat(end.type()).as(end.text()).isEqualTo(FrameType.RESULT);
            }
            try (Socket late = new Socket()) {
                assertThatThrownBy(() -> late.connect(new java.net.InetSocketAddress(LOOPBACK, port), 2000))
                        .as("the listener is gone once the copy has its connection").isInstanceOf(IOException.class);
            }
        }
        assertThat(Files.readString(dir.resolve("landed.txt"))).isEqualTo("over tcp\n");
    }

    @Test
    void aConnectionTheGuestDoesNotAcceptFailsTheCopyInsteadOfFallingBack() throws Exception {
        // The OPEN carries one token and the host presents another, as when someone else's connection won the
        // race: the helper closes on it. The token is out, so the channel is no longer safe: the copy fails.
        CopyConnection.Offer offered = CopyConnection.Offer.to(LOOPBACK);
        CopyConnection.Offer presented = CopyConnection.Offer.to(LOOPBACK);
        FileCopyIn copy = client.open(new AgentOp.FileWrite(dir.resolve("never.txt").toString(), offered));
        assertThatThrownBy(() -> copy.connect(presented)).isInstanceOf(IOException.class)
                .hasMessageMatching("the guest did not accept the copy's connection to 127\\.0\\.0\\.1:\\d+: "
                        + "it closed the connection");
        assertThat(copy.overTcp()).isFalse();
        assertThat(Files.exists(dir.resolve("never.txt"))).isFalse();
        assertThat(client.ping().protocol()).as("the agent serves on").isPositive();
    }

    @Test
    void aHostThatDoesNotConnectSendsOnTheChannelAndTheHelperFollows() throws Exception {
        byte[] token = new byte[CopyConnection.TOKEN_BYTES];
        Files.writeString(dir.resolve("src.txt"), "read on the channel\n");
        try (RawConnection raw = new RawConnection(agent.rawSocket())) {
            raw.hello();
            // file.write: the archive simply comes as STDIN frames.
            raw.send(FrameType.OPEN, 7, writeRequest(dir.resolve("in.txt"), LOOPBACK.getHostAddress(), token));
            assertThat(transportPort(raw.nextOn(7))).isPositive();
            raw.send(FrameType.STDIN, 7, tar("x", "written on the channel\n"));
            raw.send(FrameType.EOF, 7, new byte[] {FrameType.STREAM_STDIN});
            Frame end = raw.next(f -> f.channel() == 7 && f.type() >= FrameType.RESULT, Duration.ofSeconds(10));
            assertThat(end.type()).as(end.text()).isEqualTo(FrameType.RESULT);

            // file.read: EOF on stdin says the archive is wanted on the channel.
            String read = "{\"op\":\"file.read\",\"path\":\"" + dir.resolve("src.txt") + "\",\"tcp\":{\"address\":\""
                    + LOOPBACK.getHostAddress() + "\",\"token\":\"" + HexFormat.of().formatHex(token) + "\"}}";
            raw.send(FrameType.OPEN, 9, read);
            assertThat(transportPort(raw.nextOn(9))).isPositive();
            raw.send(FrameType.EOF, 9, new byte[] {FrameType.STREAM_STDIN});
            ByteArrayOutputStream archive = new ByteArrayOutputStream();
            Frame f;
            while ((f = raw.nextOn(9)).type() == FrameType.STDOUT || f.type() == FrameType.EOF) {
                if (f.type() == FrameType.STDOUT) {
                    archive.write(f.payload());
                }
            }
            assertThat(f.type()).as(f.text()).isEqualTo(FrameType.RESULT);
            try (TarArchiveInputStream in = new TarArchiveInputStream(new java.io.ByteArrayInputStream(
                    archive.toByteArray()))) {
                assertThat(in.getNextEntry().getName()).isEqualTo("src.txt");
                assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("read on the channel\n");
            }
        }
        assertThat(Files.readString(dir.resolve("in.txt"))).isEqualTo("written on the channel\n");
    }

    @Test
    void aMalformedTcpRequestIsABadRequest() throws Exception {
        try (RawConnection raw = new RawConnection(agent.rawSocket())) {
            raw.hello();
            raw.send(FrameType.OPEN, 3, "{\"op\":\"file.write\",\"path\":\"/tmp/x\",\"tcp\":{\"address\":\"127.0.0.1\","
                    + "\"token\":\"abc\"}}");
            Frame f = raw.nextOn(3);
            assertThat(f.type()).isEqualTo(FrameType.ERROR);
            assertThat(f.text()).contains("bad_request", "tcp.token");
            raw.send(FrameType.OPEN, 4, "{\"op\":\"file.read\",\"path\":\"/tmp/x\",\"tcp\":\"127.0.0.1\"}");
            f = raw.nextOn(4);
            assertThat(f.type()).isEqualTo(FrameType.ERROR);
            assertThat(f.text()).contains("bad_request", "field tcp must be an object");
        }
    }

    private static String writeRequest(Path path, String address, byte[] token) {
        return "{\"op\":\"file.write\",\"path\":\"" + path + "\",\"tcp\":{\"address\":\"" + address + "\",\"token\":\""
                + HexFormat.of().formatHex(token) + "\"}}";
    }

    private static int transportPort(Frame f) throws AgentException {
        assertThat(f.type()).as("the first frame of a copy asked to go over TCP: %s", f.text())
                .isEqualTo(FrameType.TRANSPORT);
        return (int) Json.number(Json.parse(f), "tcp_port", -1);
    }

    private static byte[] tar(String name, String content) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream out = new TarArchiveOutputStream(bytes)) {
            TarArchiveEntry e = new TarArchiveEntry(name, true);
            byte[] data = content.getBytes(StandardCharsets.UTF_8);
            e.setSize(data.length);
            e.setMode(0644);
            out.putArchiveEntry(e);
            out.write(data);
            out.closeArchiveEntry();
        }
        return Arrays.copyOf(bytes.toByteArray(), bytes.size());
    }
}
