package dev.banger.guest;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The agent protocol's JSON on the host side, against the wire names of docs/agent-protocol.md. */
class AgentCodecTest {

    private static final String CONTEXT = "op on unix:/test.sock";

    private static Frame frame(int type, String json) {
        return new Frame(type, 7, json.getBytes(StandardCharsets.UTF_8));
    }

    private static <R> R read(AgentOp<R> op, String json) throws AgentException {
        return AgentCodec.result(op, frame(FrameType.RESULT, json), CONTEXT);
    }

    /** One request per op, as docs/agent-protocol.md spells it ("Operations"). */
    private static Map<AgentOp<?>, String> golden() {
        Map<AgentOp<?>, String> g = new LinkedHashMap<>();
        g.put(new AgentOp.Ping(), "{\"op\":\"ping\"}");
        g.put(new AgentOp.Exec(ExecSpec.of("uname", "-a")),
                "{\"op\":\"exec\",\"argv\":[\"uname\",\"-a\"],\"tty\":false,\"stdin\":true}");
        g.put(new AgentOp.SessionStart("build", ExecSpec.of("make").withCwd("/root/src")),
                "{\"op\":\"session.start\",\"argv\":[\"make\"],\"cwd\":\"/root/src\",\"tty\":false,\"stdin\":true,"
                        + "\"name\":\"build\"}");
        g.put(new AgentOp.SessionList(), "{\"op\":\"session.list\"}");
        g.put(new AgentOp.SessionAttach("build", true),
                "{\"op\":\"session.attach\",\"name\":\"build\",\"replay\":true}");
        g.put(new AgentOp.SessionLogs("build", false), "{\"op\":\"session.logs\",\"name\":\"build\",\"follow\":false}");
        g.put(new AgentOp.SessionKill("build", 15), "{\"op\":\"session.kill\",\"name\":\"build\",\"signal\":15}");
        g.put(new AgentOp.SessionRemove("build"), "{\"op\":\"session.remove\",\"name\":\"build\"}");
        g.put(new AgentOp.FileRead("/root/src", null), "{\"op\":\"file.read\",\"path\":\"/root/src\"}");
        g.put(new AgentOp.FileWrite("/root/dst", null), "{\"op\":\"file.write\",\"path\":\"/root/dst\"}");
        byte[] token = new byte[16];
        java.util.Arrays.fill(token, (byte) 0x5c);
        CopyConnection.Offer offer;
        try {
            offer = new CopyConnection.Offer(java.net.InetAddress.getByName("172.30.77.5"), token);
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
        g.put(new AgentOp.FileWrite("/root/dst", offer), "{\"op\":\"file.write\",\"path\":\"/root/dst\",\"tcp\":"
                + "{\"address\":\"172.30.77.5\",\"token\":\"" + "5c".repeat(16) + "\"}}");
        g.put(new AgentOp.Ports(), "{\"op\":\"ports\"}");
        g.put(new AgentOp.Shutdown(ShutdownAction.POWEROFF), "{\"op\":\"shutdown\",\"action\":\"poweroff\"}");
        g.put(new AgentOp.ClockSet(Instant.ofEpochSecond(1700000000, 123456789), Duration.ofMillis(50)),
                "{\"op\":\"clock.set\",\"sec\":1700000000,\"nsec\":123456789,\"tolerance_ms\":50}");
        g.put(new AgentOp.SshAuthorize("ssh-ed25519 AAAAC3Nz", "banger"),
                "{\"op\":\"ssh.authorize\",\"key\":\"ssh-ed25519 AAAAC3Nz\",\"comment\":\"banger\"}");
        byte[] entropy = new byte[32];
        java.util.Arrays.fill(entropy, (byte) 0xab);
        g.put(new AgentOp.ClockAdjust(Duration.ofMillis(-1234)), "{\"op\":\"clock.adjust\",\"delta_ms\":-1234}");
        g.put(new AgentOp.Personalise(new Personalisation("alpha", java.util.Optional.of(new Personalisation.Network(
                        "02:b4:6e:1e:4d:05", "172.30.77.5/24", "172.30.77.1", "172.30.77.1")),
                        Instant.ofEpochSecond(1700000000, 5), entropy, "0123456789abcdef0123456789abcdef", "/dev/vdb",
                        true)),
                "{\"op\":\"guest.personalise\",\"version\":1,\"hostname\":\"alpha\",\"mac\":\"02:b4:6e:1e:4d:05\","
                        + "\"ip\":\"172.30.77.5/24\",\"gateway\":\"172.30.77.1\",\"dns\":\"172.30.77.1\","
                        + "\"sec\":1700000000,\"nsec\":5,\"entropy\":\"" + "ab".repeat(32) + "\","
                        + "\"machine_id\":\"0123456789abcdef0123456789abcdef\",\"work\":\"/dev/vdb\",\"sshd\":true}");
        return g;
    }

    @Test
    void request_everyOpWritesTheWireNamesOfTheProtocolDocument() {
        golden().forEach((op, json) -> assertThat(new String(AgentCodec.request(op), StandardCharsets.UTF_8))
                .as(op.wireName()).isEqualTo(json));
    }

    @Test
    void request_goldenCoversEveryOp() {
        Set<Class<?>> ops = new HashSet<>();
        Deque<Class<?>> todo = new ArrayDeque<>(List.of(AgentOp.class));
        while (!todo.isEmpty()) {
            Class<?> c = todo.pop();
            if (c.isRecord()) {
                ops.add(c);
            } else {
                todo.addAll(List.of(c.getPermittedSubclasses()));
            }
        }
        Set<Class<?>> covered = new HashSet<>();
        golden().keySet().forEach(op -> covered.add(op.getClass()));

        assertThat(covered).as("a new op needs its golden request here").isEqualTo(ops);
    }

    @Test
    void request_execWithEverySetting() {
        ExecSpec spec = ExecSpec.of("sh").withEnv(Map.of("K", "V")).withCwd("/root").withTty(30, 100)
                .withoutStdin();

        assertThat(new String(AgentCodec.request(new AgentOp.Exec(spec)), StandardCharsets.UTF_8)).isEqualTo(
                "{\"op\":\"exec\",\"argv\":[\"sh\"],\"env\":{\"K\":\"V\"},\"cwd\":\"/root\",\"tty\":true,\"rows\":30,"
                        + "\"cols\":100,\"stdin\":false}");
        assertThat(new String(AgentCodec.request(new AgentOp.Shutdown(ShutdownAction.REBOOT)),
                StandardCharsets.UTF_8)).isEqualTo("{\"op\":\"shutdown\",\"action\":\"reboot\"}");
    }

    @Test
    void result_ignoresFieldsThisBuildDoesNotKnow() throws Exception {
        AgentInfo info = read(new AgentOp.Ping(), "{\"protocol\":1,\"version\":\"0.2.0\",\"uptime_ms\":1234,"
                + "\"hostname\":\"demo\",\"kernel\":\"6.1\",\"load\":[0.5,0.1]}");

        assertThat(info).isEqualTo(new AgentInfo(1, "0.2.0", 1234, "demo"));
    }

    @Test
    void result_personaliseReadsTheSkippedStepsAndAcceptsAnAgentThatReportsNone() throws Exception {
        AgentOp.Personalise op = (AgentOp.Personalise) golden().keySet().stream()
                .filter(AgentOp.Personalise.class::isInstance).findFirst().orElseThrow();

        assertThat(read(op, "{\"applied\":[\"entropy\",\"clock\"],\"skipped\":[{\"step\":\"sshd\","
                + "\"why\":\"/usr/sbin/sshd is not in this image\"}]}")).isEqualTo(new Personalised(
                        List.of("entropy", "clock"), List.of(new Personalised.Skipped("sshd",
                                "/usr/sbin/sshd is not in this image"))));
        assertThat(read(op, "{\"applied\":[\"entropy\",\"sshd\"]}"))
                .isEqualTo(new Personalised(List.of("entropy", "sshd"), List.of()));
    }

    @Test
    void result_missingRequiredFieldFailsNamingFieldOpAndAgent() {
        assertThatThrownBy(() -> read(new AgentOp.Ping(), "{\"protocol\":1,\"version\":\"0.1.0\",\"hostname\":\"h\"}"))
                .isInstanceOfSatisfying(AgentException.class, e -> {
                    assertThat(e.code()).as("not an answer of the agent's own").isNull();
                    assertThat(e.getMessage()).isEqualTo(CONTEXT + ": the agent's answer lacks the field "
                            + "\"uptime_ms\" (a number): {\"protocol\":1,\"version\":\"0.1.0\",\"hostname\":\"h\"}");
                });
    }

    @Test
    void result_missingFieldInAnArrayEntryNamesTheEntry() {
        String json = "{\"sessions\":[{\"name\":\"a\",\"argv\":[\"true\"],\"tty\":false,\"running\":true,"
                + "\"started_at\":1,\"runtime_ms\":2,\"bytes\":3,\"dropped\":0,\"attached\":0}]}";

        assertThatThrownBy(() -> read(new AgentOp.SessionList(), json))
                .isInstanceOf(AgentException.class)
                .hasMessageStartingWith(CONTEXT + ", sessions[0]: the agent's answer lacks the field \"pid\"");
    }

    @Test
    void result_fieldOfTheWrongTypeFails() {
        assertThatThrownBy(() -> read(new AgentOp.SessionStart("x", ExecSpec.of("true")),
                "{\"name\":\"x\",\"pid\":\"12\"}"))
                .isInstanceOf(AgentException.class)
                .hasMessageContaining("the field \"pid\" of the agent's answer is a string, not a number");
        assertThatThrownBy(() -> read(new AgentOp.Ports(), "{\"ports\":[1],\"truncated\":false}"))
                .isInstanceOf(AgentException.class)
                .hasMessageContaining("the field \"ports[0]\" of the agent's answer is a number, not an object");
    }

    @Test
    void result_notAnObjectFails() {
        assertThatThrownBy(() -> read(new AgentOp.Ping(), "[1]"))
                .isInstanceOf(AgentException.class)
                .hasMessageContaining("not a JSON object");
    }

    @Test
    void result_typedResultsOfEveryShape() throws Exception {
        assertThat(read(new AgentOp.Exec(ExecSpec.of("sleep", "9")), "{\"exit_code\":143,\"signal\":15}"))
                .isEqualTo(new ExitStatus(143, OptionalInt.of(15)));
        assertThat(read(new AgentOp.SessionStart("b", ExecSpec.of("true")), "{\"name\":\"b\",\"pid\":42}"))
                .isEqualTo(42);
        assertThat(read(new AgentOp.SessionList(), "{\"sessions\":[{\"name\":\"b\",\"pid\":42,\"argv\":[\"make\"],"
                + "\"tty\":true,\"running\":false,\"exit_code\":2,\"started_at\":1000,\"runtime_ms\":1500,"
                + "\"bytes\":10,\"dropped\":4,\"attached\":1}]}"))
                .containsExactly(new SessionInfo("b", 42, List.of("make"), true, ExitStatus.exited(2),
                        Instant.ofEpochMilli(1000), Duration.ofMillis(1500), 10, 4, 1));
        assertThat(read(new AgentOp.SessionAttach("b", true), "{\"detached\":true,\"lost\":3}"))
                .isEqualTo(new SessionOutcome(true, null, 3));
        assertThat(read(new AgentOp.SessionLogs("b", false), "{\"running\":true,\"lost\":0}"))
                .isEqualTo(new SessionOutcome(false, null, 0));
        assertThat(read(new AgentOp.FileRead("/x", null), "{\"files\":1,\"dirs\":2,\"symlinks\":3,\"others\":4,"
                + "\"bytes\":5,\"skipped\":6,\"warnings\":[\"w\"]}"))
                .isEqualTo(new CopyStats(1, 2, 3, 4, 5, 6, List.of("w")));
        assertThat(read(new AgentOp.FileWrite("/x", null), "{\"cancelled\":true}"))
                .as("a cancelled copy has nothing to count")
                .isEqualTo(new CopyStats(0, 0, 0, 0, 0, 0, List.of()));
        assertThat(read(new AgentOp.Ports(), "{\"ports\":[{\"protocol\":\"tcp\",\"address\":\"::\",\"port\":22,"
                + "\"pid\":201,\"command\":\"sshd\"},{\"protocol\":\"udp\",\"address\":\"0.0.0.0\",\"port\":68}],"
                + "\"truncated\":false}"))
                .containsExactly(new ListeningPort("tcp", "::", 22, 201, "sshd"),
                        new ListeningPort("udp", "0.0.0.0", 68, null, null));
        assertThat(read(new AgentOp.SessionKill("b", 9), "{}")).isNull();
    }

    @Test
    void error_knownCodeIsTyped() {
        AgentException e = AgentCodec.error(frame(FrameType.ERROR,
                "{\"code\":\"not_found\",\"message\":\"no session named \\\"x\\\"\"}"), CONTEXT);

        assertThat(e.code()).isEqualTo(AgentError.NOT_FOUND);
        assertThat(e.detail()).isEqualTo("no session named \"x\"");
        assertThat(e.getMessage()).isEqualTo(CONTEXT + ": not_found: no session named \"x\"");
    }

    @Test
    void error_unknownCodeReadsAsUnknownAndKeepsItsWireName() {
        AgentException e = AgentCodec.error(frame(FrameType.ERROR,
                "{\"code\":\"quota_exceeded\",\"message\":\"too many\",\"retry_ms\":100}"), CONTEXT);

        assertThat(e.code()).isEqualTo(AgentError.UNKNOWN);
        assertThat(e.detail()).isEqualTo("too many");
        assertThat(e.getMessage()).isEqualTo(CONTEXT + ": quota_exceeded: too many");
    }

    @Test
    void hello_isProtocolOne() {
        assertThat(new String(AgentCodec.hello(), StandardCharsets.UTF_8)).isEqualTo("{\"protocol\":1}");
        assertThat(AgentCodec.helloProtocol(Map.of("protocol", 1L, "agent", "banger-init"))).isEqualTo(1);
        assertThat(AgentCodec.helloProtocol(Map.of())).isEqualTo(-1);
    }
}
