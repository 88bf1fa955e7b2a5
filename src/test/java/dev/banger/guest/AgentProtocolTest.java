package dev.banger.guest;

import dev.banger.testkit.AgentProcess;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The agent's answers to bad input at the frame level: each gets the right ERROR and the stream goes on. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class AgentProtocolTest {


    @TempDir
    Path dir;

    private AgentProcess agent;
    private RawConnection conn;

    @BeforeEach
    void start() throws Exception {
        agent = AgentProcess.start(dir);
        conn = new RawConnection(agent.rawSocket());
        conn.hello();
    }

    @AfterEach
    void stop() throws Exception {
        if (conn != null) {
            conn.close();
        }
        if (agent != null) {
            agent.close();
        }
    }

    private static java.util.Map<?, ?> json(Frame f) throws Exception {
        return Json.parse(f);
    }

    /** The stream still works: a ping on a fresh channel gets its RESULT. */
    private void assertPingWorks(int channel) throws Exception {
        conn.send(FrameType.OPEN, channel, "{\"op\":\"ping\"}");
        Frame f = conn.nextOn(channel);
        assertThat(f.type()).as("answer to ping: %s", f.text()).isEqualTo(FrameType.RESULT);
        assertThat((int) Json.number(json(f), "protocol", -1)).isEqualTo(1);
    }

    private void assertError(Frame f, int channel, String code) throws Exception {
        assertThat(f.type()).as("frame %s: %s", f, f.text()).isEqualTo(FrameType.ERROR);
        assertThat(f.channel()).isEqualTo(channel);
        assertThat(Json.text(json(f), "code", "")).isEqualTo(code);
    }

    @Test
    void hello_answersWithAgentIdentity() throws Exception {
        Frame reply = conn.hello();

        assertThat(reply.channel()).isZero();
        assertThat((int) Json.number(json(reply), "protocol", -1)).isEqualTo(1);
        assertThat(Json.text(json(reply), "agent", "")).isEqualTo("banger-init");
    }

    @Test
    void malformedJson_isBadRequest() throws Exception {
        conn.send(FrameType.OPEN, 3, "{\"op\": \"ping\"");

        Frame f = conn.nextOn(3);
        assertError(f, 3, "bad_request");
        assertThat(Json.text(json(f), "message", "")).contains("not valid JSON");
        assertPingWorks(4);
    }

    @Test
    void unknownOp_isBadRequestNamingTheOp() throws Exception {
        conn.send(FrameType.OPEN, 3, "{\"op\":\"teleport\"}");

        Frame f = conn.nextOn(3);
        assertError(f, 3, "bad_request");
        assertThat(Json.text(json(f), "message", "")).contains("teleport");
        assertPingWorks(4);
    }

    @Test
    void execWithoutArgv_isBadRequestNamingTheField() throws Exception {
        conn.send(FrameType.OPEN, 3, "{\"op\":\"exec\"}");
        Frame missing = conn.nextOn(3);
        conn.send(FrameType.OPEN, 4, "{\"op\":\"exec\",\"argv\":[]}");
        Frame empty = conn.nextOn(4);
        conn.send(FrameType.OPEN, 5, "{\"op\":\"exec\",\"argv\":[\"true\"],\"tty\":\"yes\"}");
        Frame mistyped = conn.nextOn(5);

        assertError(missing, 3, "bad_request");
        assertThat(Json.text(json(missing), "message", "")).isEqualTo("missing field argv");
        assertError(empty, 4, "bad_request");
        assertThat(Json.text(json(empty), "message", "")).contains("argv");
        assertError(mistyped, 5, "bad_request");
        assertThat(Json.text(json(mistyped), "message", "")).contains("tty");
        assertPingWorks(6);
    }

    @Test
    void wrongMagic_isSkippedWithOneBadFrameErrorThenTheStreamResyncs() throws Exception {
        byte[] garbage = "this is not a frame at all \u00b4".getBytes(StandardCharsets.ISO_8859_1);
        conn.sendRaw(garbage);
        conn.send(FrameType.OPEN, 7, "{\"op\":\"ping\"}");

        assertError(conn.poll(Duration.ofSeconds(5)), 0, "bad_frame");
        Frame ping = conn.poll(Duration.ofSeconds(5));
        assertThat(ping.type()).as("one error per run of garbage, then the ping's answer").isEqualTo(FrameType.RESULT);
        assertThat(ping.channel()).isEqualTo(7);
    }

    @Test
    void oversizedFrame_isFrameTooLargeAndItsPayloadIsDiscarded() throws Exception {
        int length = (1 << 20) + 1;
        ByteBuffer frame = ByteBuffer.allocate(FrameType.HEADER_LENGTH + length);
        frame.put(FrameType.MAGIC0).put(FrameType.MAGIC1).put((byte) FrameType.STDIN).put((byte) 0)
                .putInt(9).putInt(length);
        // The payload looks like frames; none of them may be taken as one.
        while (frame.remaining() >= 25) {
            frame.put(FrameType.MAGIC0).put(FrameType.MAGIC1).put((byte) FrameType.OPEN).put((byte) 0)
                    .putInt(99).putInt(13).put("{\"op\":\"ping\"}".getBytes(StandardCharsets.US_ASCII));
        }
        conn.sendRaw(frame.array());

        assertError(conn.nextOn(9), 9, "frame_too_large");
        assertPingWorks(10);
        assertThat(conn.poll(Duration.ofMillis(200))).as("nothing answered from inside the payload").isNull();
    }

    @Test
    void unknownFrameType_isBadFrameOnItsChannel() throws Exception {
        conn.send(0x7F, 5, new byte[] {1, 2, 3});

        assertError(conn.nextOn(5), 5, "bad_frame");
        assertPingWorks(6);
    }

    @Test
    void openOnABusyChannel_isChannelInUseAndEndsThatChannel() throws Exception {
        conn.send(FrameType.OPEN, 5, "{\"op\":\"exec\",\"argv\":[\"sleep\",\"30\"]}");
        conn.send(FrameType.OPEN, 5, "{\"op\":\"ping\"}");

        assertError(conn.nextOn(5), 5, "channel_in_use");
        assertPingWorks(5);
    }

    @Test
    void framesForChannelsThatAreNotOpenAreDroppedSilently() throws Exception {
        conn.send(FrameType.STDIN, 42, "data".getBytes(StandardCharsets.US_ASCII));
        conn.send(FrameType.WINDOW, 42, RawConnection.u32(100));
        conn.send(FrameType.CLOSE, 42, new byte[0]);

        assertPingWorks(43);
        assertThat(conn.poll(Duration.ofMillis(200))).isNull();
    }

    @Test
    void helloReset_killsRunningChannelsWithoutResults() throws Exception {
        conn.send(FrameType.OPEN, 3, "{\"op\":\"exec\",\"argv\":[\"sh\",\"-c\",\"echo $$; exec sleep 60\"]}");
        Frame out = conn.nextOn(3);
        assertThat(out.type()).isEqualTo(FrameType.STDOUT);
        ProcessHandle sleeper = ProcessHandle.of(Long.parseLong(out.text().trim())).orElseThrow();

        conn.hello();

        assertThat(sleeper.onExit().get(5, TimeUnit.SECONDS).isAlive()).isFalse();
        assertThat(conn.poll(Duration.ofMillis(300))).as("no frames for the reset channel").isNull();
        assertPingWorks(3);
    }

    @Test
    void helloReset_dropsAttachChannelsButSessionsGoOn() throws Exception {
        conn.send(FrameType.OPEN, 5, "{\"op\":\"session.start\",\"name\":\"keeper\",\"argv\":[\"sleep\",\"60\"]}");
        assertThat(conn.nextOn(5).type()).isEqualTo(FrameType.RESULT);
        conn.send(FrameType.OPEN, 6, "{\"op\":\"session.attach\",\"name\":\"keeper\"}");

        conn.hello();

        assertThat(conn.poll(Duration.ofMillis(300))).as("no frames for the dropped attach channel").isNull();
        conn.send(FrameType.OPEN, 6, "{\"op\":\"session.list\"}");
        Frame list = conn.nextOn(6);
        assertThat(list.type()).isEqualTo(FrameType.RESULT);
        assertThat(list.text()).contains("\"name\":\"keeper\"", "\"running\":true", "\"attached\":0");
    }

    @Test
    void closeOnAnAttachChannel_detachesWithAResult() throws Exception {
        conn.send(FrameType.OPEN, 5, "{\"op\":\"session.start\",\"name\":\"keeper\",\"argv\":[\"sleep\",\"60\"]}");
        assertThat(conn.nextOn(5).type()).isEqualTo(FrameType.RESULT);
        conn.send(FrameType.OPEN, 6, "{\"op\":\"session.attach\",\"name\":\"keeper\"}");
        conn.send(FrameType.SIGNAL, 6, new byte[] {0});

        Frame bad = conn.nextOn(6);

        assertError(bad, 6, "bad_frame");
        conn.send(FrameType.OPEN, 7, "{\"op\":\"session.attach\",\"name\":\"keeper\"}");
        conn.send(FrameType.CLOSE, 7, new byte[0]);
        Frame detached = conn.nextOn(7);
        assertThat(detached.type()).isEqualTo(FrameType.RESULT);
        assertThat(detached.text()).isEqualTo("{\"detached\":true,\"lost\":0}");
        conn.send(FrameType.OPEN, 8, "{\"op\":\"session.list\"}");
        assertThat(conn.nextOn(8).text()).contains("\"running\":true");
    }

    @Test
    void closeFromAnotherClientVanishing_killsOnlyThatClientsProcesses() throws Exception {
        RawConnection other = new RawConnection(agent.rawSocket());
        other.hello();
        other.send(FrameType.OPEN, 1, "{\"op\":\"exec\",\"argv\":[\"sh\",\"-c\",\"echo $$; exec sleep 60\"]}");
        ProcessHandle theirs = ProcessHandle.of(Long.parseLong(other.nextOn(1).text().trim())).orElseThrow();
        conn.send(FrameType.OPEN, 1, "{\"op\":\"exec\",\"argv\":[\"sh\",\"-c\",\"echo $$; exec sleep 60\"]}");
        ProcessHandle ours = ProcessHandle.of(Long.parseLong(conn.nextOn(1).text().trim())).orElseThrow();

        other.close();

        assertThat(theirs.onExit().get(5, TimeUnit.SECONDS).isAlive()).isFalse();
        assertThat(ours.isAlive()).as("the other client's process is left alone").isTrue();
        conn.send(FrameType.SIGNAL, 1, new byte[] {15});
        Frame end = conn.next(f -> f.channel() == 1 && f.type() == FrameType.RESULT, Duration.ofSeconds(5));
        assertThat((int) Json.number(json(end), "signal", -1)).isEqualTo(15);
    }

    /**
     * Thousands of random and garbled frames, then the documented way to resynchronise an unknown stream (1 MiB +
     * 12 zero bytes, then HELLO): the agent must answer and still be alive.
     */
    @Test
    void fuzz_randomAndGarbledFramesNeverBreakTheAgent() throws Exception {
        Random random = new Random(20240611L);
        List<String> requests = List.of(
                "{\"op\":\"ping\"}",
                "{\"op\":\"exec\",\"argv\":[\"/bin/true\"]}",
                "{\"op\":\"exec\",\"argv\":[\"/bin/true\"],\"env\":{\"A\":\"b\"},\"cwd\":\"/\",\"tty\":true,"
                        + "\"rows\":10,\"cols\":20,\"stdin\":false}",
                "{\"op\":\"exec\",\"argv\":[\"/bin/cat\"]}",
                "{\"protocol\":1}",
                "{\"op\":\"exec\",\"argv\":[\"\\u00e9\\ud83d\\ude00\",\"\\\\\"],\"env\":{}}",
                "[1,2,{\"a\":[null,true,false,-1.5e3]}]");
        int[] types = {0x01, 0x02, 0x10, 0x11, 0x12, 0x13, 0x20, 0x21, 0x22, 0x30, 0x31, 0x32, 0x00, 0x7F, 0xFF};
        for (int i = 0; i < 5000; i++) {
            int kind = random.nextInt(10);
            if (kind == 0) {
                byte[] garbage = new byte[random.nextInt(64)];
                random.nextBytes(garbage);
                conn.sendRaw(garbage);
                continue;
            }
            int type = types[random.nextInt(types.length)];
            if (type == FrameType.HELLO || type == 0x32 && random.nextBoolean()) {
                type = FrameType.OPEN;
            }
            int channel = random.nextInt(8);
            byte[] payload;
            if (type == FrameType.OPEN || kind == 1) {
                byte[] base = requests.get(random.nextInt(requests.size())).getBytes(StandardCharsets.UTF_8);
                payload = mutate(base, random);
            } else {
                payload = new byte[random.nextInt(random.nextInt(10) == 0 ? 2000 : 8)];
                random.nextBytes(payload);
            }
            if (kind == 2) {
                // A header that lies about its length (shorter or a little longer).
                ByteBuffer lie = ByteBuffer.allocate(FrameType.HEADER_LENGTH + payload.length);
                lie.put(FrameType.MAGIC0).put(FrameType.MAGIC1).put((byte) type).put((byte) random.nextInt(256))
                        .putInt(channel).putInt(Math.max(0, payload.length + random.nextInt(40) - 20)).put(payload);
                conn.sendRaw(lie.array());
            } else {
                conn.send(type, channel, payload);
            }
        }
        conn.sendRaw(new byte[(1 << 20) + FrameType.HEADER_LENGTH]);
        conn.hello();

        assertPingWorks(1000);
        assertThat(agent.isAlive()).as("agent alive after fuzzing; log:\n%s", agent.log()).isTrue();
        try (AgentClient client = agent.connect()) {
            ExecProcess p = client.exec(ExecSpec.of("echo", "still here"));
            assertThat(new String(p.stdout().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("still here\n");
        }
    }

    private static byte[] mutate(byte[] base, Random random) {
        byte[] out = base.clone();
        int edits = random.nextInt(4);
        for (int e = 0; e < edits && out.length > 0; e++) {
            int at = random.nextInt(out.length);
            switch (random.nextInt(3)) {
                case 0 -> out[at] = (byte) random.nextInt(256);
                case 1 -> out = java.util.Arrays.copyOf(out, at);
                default -> {
                    byte[] longer = new byte[out.length + 1];
                    System.arraycopy(out, 0, longer, 0, at);
                    longer[at] = "{}[]\",:\\0".getBytes(StandardCharsets.US_ASCII)[random.nextInt(9)];
                    System.arraycopy(out, at, longer, at + 1, out.length - at);
                    out = longer;
                }
            }
        }
        return out;
    }
}
