package dev.banger.guest;


import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Guest sessions against the real banger-init in agent mode on a temp Unix socket. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class AgentSessionTest extends AgentTestBase {

    private static final String COUNTER = "i=0; while true; do echo $i; i=$((i+1)); sleep 0.05; done";
    private static final int RING = 1 << 20;

    @Test
    void aSessionRunsDetachedAndItsStatusStaysListedUntilRemoved() throws Exception {
        int pid = client.startSession("job", ExecSpec.of("sh", "-c", "echo out; echo err >&2; exit 3"));

        SessionInfo ended = awaitSession("job", s -> !s.running());
        assertThat(ended.pid()).isEqualTo(pid);
        assertThat(ended.argv()).containsExactly("sh", "-c", "echo out; echo err >&2; exit 3");
        assertThat(ended.exitStatus()).isEqualTo(ExitStatus.exited(3));
        assertThat(ended.outputBytes()).isEqualTo(8);
        assertThat(logs("job")).as("stdout and stderr share the buffer").isEqualTo("out\nerr\n");

        client.removeSession("job");
        assertThat(client.listSessions()).isEmpty();
        assertThat(code(() -> client.removeSession("job"))).isEqualTo(AgentError.NOT_FOUND);
    }

    @Test
    void sessionsOutliveTheConnectionThatStartedThemAndHelloResets() throws Exception {
        client.startSession("counter", ExecSpec.of("sh", "-c", COUNTER));
        ExecProcess exec = client.exec(ExecSpec.of("sleep", "60"));
        awaitOutput("counter", "3\n");
        client.close();

        client = agent.connect(); // a new stream, a new HELLO: as after a daemon restart
        assertThat(exec.isFinished()).isTrue();
        SessionInfo info = awaitSession("counter", SessionInfo::running);
        assertThat(info.attached()).isZero();
        try (AgentClient again = agent.connect()) {
            assertThat(again.listSessions()).extracting(SessionInfo::name).containsExactly("counter");
        }
        SessionAttachment view = client.attachSession("counter", true);
        String seen = readUntil(view.output(), s -> s.contains("\n40\n"));
        assertThat(seen).as("earlier output replayed, then new output").startsWith("0\n1\n2\n3\n");
        view.detach();
    }

    @Test
    void attachReplaysThenFollowsAndDetachingLeavesTheSessionRunning() throws Exception {
        client.startSession("counter", ExecSpec.of("sh", "-c", COUNTER));
        awaitOutput("counter", "5\n");

        SessionAttachment first = client.attachSession("counter", true);
        SessionAttachment second = client.attachSession("counter", false);
        String replayed = readUntil(first.output(), s -> s.contains("\n12\n"));
        String live = readUntil(second.output(), s -> s.contains("\n12\n"));
        assertThat(replayed).startsWith("0\n1\n2\n3\n4\n5\n");
        assertThat(live).as("without replay: only new output").doesNotStartWith("0\n");
        assertThat(awaitSession("counter", s -> s.attached() == 2).attached()).isEqualTo(2);

        first.detach();
        second.detach();
        SessionOutcome outcome = first.waitFor(Duration.ofSeconds(5));
        assertThat(outcome.detached()).isTrue();
        assertThat(outcome.exitStatus()).isNull();
        assertThat(second.waitFor(Duration.ofSeconds(5)).detached()).isTrue();
        SessionInfo after = awaitSession("counter", s -> s.attached() == 0);
        assertThat(after.running()).as("detaching does not stop the session").isTrue();
    }

    @Test
    void attachFeedsInputAndResizesTheSessionsTerminal() throws Exception {
        client.startSession("shell", ExecSpec.of("sh", "-c", "read line; echo got:$line; stty size; read x")
                .withTty(24, 80));
        SessionAttachment view = client.attachSession("shell", true);
        view.resize(30, 100);
        view.stdin().write("hello\n".getBytes(StandardCharsets.UTF_8));
        view.stdin().flush();

        String out = readUntil(view.output(), s -> s.contains("30 100"));
        assertThat(out).contains("got:hello");
        view.stdin().write("\n".getBytes(StandardCharsets.UTF_8));
        SessionOutcome outcome = view.waitFor(Duration.ofSeconds(5));
        assertThat(outcome.exitStatus()).isEqualTo(ExitStatus.exited(0));
    }

    @Test
    void whenTheSessionEndsItsAttachersGetItsExitStatus() throws Exception {
        client.startSession("pipe", ExecSpec.of("sh", "-c", "read line; echo $line; exit 5"));
        SessionAttachment view = client.attachSession("pipe", true);
        view.stdin().write("through stdin\n".getBytes(StandardCharsets.UTF_8));

        String out = new String(view.output().readAllBytes(), StandardCharsets.UTF_8);

        assertThat(out).isEqualTo("through stdin\n");
        assertThat(view.waitFor(Duration.ofSeconds(5))).isEqualTo(new SessionOutcome(false, ExitStatus.exited(5), 0));
    }

    @Test
    void theRingBufferKeepsTheLastMebibyteAndASlowReaderLosesWhatItMissed() throws Exception {
        client.startSession("flood", ExecSpec.of("sh", "-c", "sleep 0.3; head -c 3145728 /dev/zero; echo END"));
        SessionAttachment stalled = client.attachSession("flood", true); // never read until the end

        SessionInfo ended = awaitSession("flood", s -> !s.running() && s.outputBytes() == 3 * RING + 4);
        assertThat(ended.exitStatus().succeeded()).as("the session never waits for a reader").isTrue();
        assertThat(ended.droppedBytes()).isEqualTo(2 * RING + 4);
        SessionAttachment logs = client.sessionLogs("flood", false);
        byte[] kept = logs.output().readAllBytes();
        assertThat(kept).hasSize(RING);
        assertThat(new String(kept, kept.length - 4, 4, StandardCharsets.US_ASCII)).isEqualTo("END\n");
        assertThat(logs.waitFor().lostBytes()).isZero();

        long read = stalled.output().transferTo(java.io.OutputStream.nullOutputStream());
        SessionOutcome outcome = stalled.waitFor(Duration.ofSeconds(5));
        assertThat(read + outcome.lostBytes()).isEqualTo(3L * RING + 4);
        assertThat(outcome.lostBytes()).isPositive();
        assertThat(agent.peakRssKib()).as("memory stays bounded by the ring, not the output").isLessThan(16 * 1024);
    }

    @Test
    void logsWithoutFollowStopAtTheEndOfOutputSoFarAndWithFollowAtTheEnd() throws Exception {
        client.startSession("counter", ExecSpec.of("sh", "-c", "i=0; while [ $i -lt 30 ]; do echo $i; "
                + "i=$((i+1)); sleep 0.05; done"));
        awaitOutput("counter", "3\n");

        SessionAttachment snapshot = client.sessionLogs("counter", false);
        String now = new String(snapshot.output().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(now).startsWith("0\n1\n2\n3\n").doesNotContain("29");
        assertThat(snapshot.waitFor().exitStatus()).as("still running").isNull();

        SessionAttachment follow = client.sessionLogs("counter", true);
        String all = new String(follow.output().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(all).startsWith("0\n").endsWith("\n29\n");
        assertThat(follow.waitFor().exitStatus()).isEqualTo(ExitStatus.exited(0));
        assertThatThrownBy(() -> follow.stdin().write(1)).isInstanceOf(IOException.class);
    }

    @Test
    void killSignalsTheSessionAndTheNameIsFreeOnceItHasEnded() throws Exception {
        client.startSession("sleeper", ExecSpec.of("sleep", "60"));
        assertThat(code(() -> client.startSession("sleeper", ExecSpec.of("true")))).isEqualTo(AgentError.ALREADY_EXISTS);

        client.killSession("sleeper", 15);

        SessionInfo ended = awaitSession("sleeper", s -> !s.running());
        assertThat(ended.exitStatus()).isEqualTo(ExitStatus.killed(15));
        assertThat(ended.exitStatus().exitCode()).isEqualTo(143);
        assertThat(code(() -> client.killSession("sleeper", 9))).isEqualTo(AgentError.NOT_RUNNING);
        assertThat(code(() -> client.killSession("nobody", 9))).isEqualTo(AgentError.NOT_FOUND);
        SessionAttachment late = client.attachSession("sleeper", true);
        assertThat(late.waitFor(Duration.ofSeconds(5)).exitStatus()).as("attaching to an ended session")
                .isEqualTo(ExitStatus.killed(15));

        client.startSession("sleeper", ExecSpec.of("sh", "-c", "echo second"));
        awaitSession("sleeper", s -> !s.running());
        assertThat(logs("sleeper")).as("an ended session is replaced").isEqualTo("second\n");
    }

    @Test
    void namesAndTheNumberOfSessionsAreBounded() throws Exception {
        assertThat(code(() -> client.startSession("Upper", ExecSpec.of("true")))).isEqualTo(AgentError.BAD_REQUEST);
        assertThat(code(() -> client.startSession("-x", ExecSpec.of("true")))).isEqualTo(AgentError.BAD_REQUEST);
        assertThat(code(() -> client.startSession("a".repeat(64), ExecSpec.of("true")))).isEqualTo(AgentError.BAD_REQUEST);
        assertThat(code(() -> client.startSession("ok", ExecSpec.of("no-such-program")))).isEqualTo(AgentError.EXEC_FAILED);
        client.startSession("a".repeat(63), ExecSpec.of("true"));

        for (int i = 1; i < 64; i++) {
            client.startSession("s" + i, ExecSpec.of("sleep", "60").withoutStdin());
        }
        assertThat(code(() -> client.startSession("one-too-many", ExecSpec.of("true")))).isEqualTo(AgentError.LIMIT_REACHED);
        assertThat(client.listSessions()).hasSize(64);
    }

    // --- helpers ---

    private interface Call {
        void run() throws Exception;
    }

    private static AgentError code(Call call) {
        try {
            call.run();
        } catch (AgentException e) {
            return e.code();
        } catch (Exception e) {
            throw new AssertionError("expected an AgentException", e);
        }
        throw new AssertionError("expected an AgentException, but the call succeeded");
    }

    private String logs(String name) throws Exception {
        SessionAttachment view = client.sessionLogs(name, false);
        String out = new String(view.output().readAllBytes(), StandardCharsets.UTF_8);
        view.waitFor();
        return out;
    }

    private void awaitOutput(String name, String marker) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!logs(name).contains(marker)) {
            assertThat(System.nanoTime()).as("output of " + name + " shows " + marker).isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    private SessionInfo awaitSession(String name, Predicate<SessionInfo> condition) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            List<SessionInfo> all = client.listSessions();
            SessionInfo s = all.stream().filter(x -> x.name().equals(name)).findFirst().orElse(null);
            if (s != null && condition.test(s)) {
                return s;
            }
            assertThat(System.nanoTime()).as("session " + name + " in the expected state: " + all)
                    .isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    private static String readUntil(InputStream in, Predicate<String> done) throws IOException {
        ByteArrayOutputStream seen = new ByteArrayOutputStream();
        byte[] buf = new byte[4096];
        while (!done.test(seen.toString(StandardCharsets.UTF_8))) {
            int n = in.read(buf);
            if (n < 0) {
                break;
            }
            seen.write(buf, 0, n);
        }
        return seen.toString(StandardCharsets.UTF_8);
    }
}
