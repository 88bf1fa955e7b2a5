package dev.banger.session;

import static org.assertj.core.api.Assertions.assertThat;

import dev.banger.json.Json;
import dev.banger.testkit.BangerHome;
import dev.banger.testkit.BangerHome.Result;
import dev.banger.testkit.TestAssets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Guest sessions through bin/banger in a real QEMU TCG guest: they outlive the client that attached and the
 * daemon itself.
 */
@Tag("vm")
class SessionIT {

    private static final Pattern TICK = Pattern.compile("tick (\\d+)");

    private BangerHome banger;

    @BeforeEach
    void setUp() throws Exception {
        banger = BangerHome.createWithBusyboxGuest();
        ok(banger.banger("vm", "create", "--memory", "256M", "--disk", "64M", "demo"));
    }

    @AfterEach
    void tearDown() throws Exception {
        banger.close();
    }

    @Test
    void aSessionOutlivesItsClientAndADaemonRestart() throws Exception {
        Result start = ok(banger.banger("session", "start", "demo", "--name", "counter", "--", "sh", "-c",
                "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done"));
        assertThat(start.stdout()).isEqualTo("counter\n");
        assertThat(start.stderr()).contains("attach with: banger session attach demo counter");
        Result again = banger.banger("session", "start", "demo", "--name", "counter", "--", "true");
        assertThat(again.exitCode()).isEqualTo(1);
        assertThat(again.stderr()).contains("session 'counter' in VM 'demo' is already running");

        Process attach = background("session", "attach", "demo", "counter");
        String seen = awaitOutput(attach, s -> lastTick(s) >= 3);
        assertThat(seen).startsWith("tick 0\n");
        attach.destroy(); // the client goes away: the session must not notice
        assertThat(attach.waitFor(10, TimeUnit.SECONDS)).isTrue();
        int beforeRestart = lastTick(ok(banger.banger("session", "logs", "demo", "counter")).stdout());

        ok(banger.banger("daemon", "stop"));
        Map<?, ?> listed = session(ok(banger.banger("session", "list", "demo", "--json")), "counter");
        assertThat(listed.get("state")).as("running after the daemon restarted").isEqualTo("running");
        assertThat(listed.get("attached")).isEqualTo(0L);

        Process reattached = background("session", "attach", "demo", "counter");
        String replay = awaitOutput(reattached, s -> lastTick(s) > beforeRestart + 3);
        reattached.destroy();
        assertThat(replay).as("earlier output replayed, then new output").startsWith("tick 0\n")
                .contains("tick " + beforeRestart + "\n", "tick " + (beforeRestart + 3) + "\n");
        String table = ok(banger.banger("session", "list", "demo")).stdout();
        assertThat(table).containsPattern("counter\\s+running\\s+\\d+");

        ok(banger.banger("session", "kill", "demo", "counter"));
        Map<?, ?> killed = awaitState("counter", "killed");
        assertThat(killed.get("signal")).isEqualTo(15L);
        assertThat(killed.get("exitCode")).isEqualTo(143L);
        assertThat(ok(banger.banger("session", "list", "demo")).stdout()).contains("killed (SIGTERM)");
        Result follow = ok(banger.banger("session", "logs", "-f", "demo", "counter"));
        assertThat(follow.stdout()).as("-f on an ended session prints it all and returns").startsWith("tick 0\n");
        Result reattach = banger.banger("session", "attach", "demo", "counter");
        assertThat(reattach.exitCode()).as("attach to an ended session returns its exit code").isEqualTo(143);
        assertThat(reattach.stderr()).contains("[session counter killed by SIGTERM]");

        ok(banger.banger("session", "start", "demo", "--", "sh", "-c", "echo done; exit 4"));
        assertThat(awaitState("sh", "exited").get("exitCode")).as("a name from the command").isEqualTo(4L);
        ok(banger.banger("session", "rm", "demo", "counter", "sh"));
        assertThat(ok(banger.banger("session", "list", "demo", "--json")).stdout()).contains("\"sessions\": []");
        Result missing = banger.banger("session", "logs", "demo", "counter");
        assertThat(missing.exitCode()).isEqualTo(1);
        assertThat(missing.stderr()).isEqualTo("banger: no session 'counter' in VM 'demo'; see: banger session list "
                + "demo\n");
    }

    // --- helpers ---

    private Process background(String... args) throws Exception {
        List<String> argv = new ArrayList<>();
        argv.add(BangerHome.root().resolve("bin/banger").toString());
        argv.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(banger.inNetns(argv));
        pb.environment().put("BANGER_HOME", banger.home().toString());
        if (System.getProperty("banger.build.dir") != null) {
            pb.environment().put("BANGER_BUILD_DIR", System.getProperty("banger.build.dir"));
        }
        Path out = Files.createTempFile(banger.home(), "attach", ".out");
        pb.redirectOutput(out.toFile()).redirectError(ProcessBuilder.Redirect.DISCARD);
        Process p = pb.start();
        outputs.add(new Object[] {p, out});
        return p;
    }

    private final List<Object[]> outputs = new ArrayList<>();

    private String outputOf(Process p) throws Exception {
        for (Object[] o : outputs) {
            if (o[0] == p) {
                return Files.readString((Path) o[1]);
            }
        }
        throw new IllegalArgumentException("not a background process of this test");
    }

    private String awaitOutput(Process p, java.util.function.Predicate<String> done) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            String out = outputOf(p);
            if (done.test(out)) {
                return out;
            }
            assertThat(p.isAlive()).as("attach still running; output so far: " + out).isTrue();
            assertThat(System.nanoTime()).as("output in time; so far: " + out).isLessThan(deadline);
            Thread.sleep(200);
        }
    }

    private Map<?, ?> awaitState(String name, String state) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            Map<?, ?> s = session(ok(banger.banger("session", "list", "demo", "--json")), name);
            if (state.equals(s.get("state"))) {
                return s;
            }
            assertThat(System.nanoTime()).as(name + " becomes " + state + ": " + s).isLessThan(deadline);
            Thread.sleep(300);
        }
    }

    private static int lastTick(String output) {
        Matcher m = TICK.matcher(output);
        int last = -1;
        while (m.find()) {
            last = Integer.parseInt(m.group(1));
        }
        return last;
    }

    private static Map<?, ?> session(Result list, String name) {
        List<?> sessions = (List<?>) ((Map<?, ?>) Json.parseTree(list.stdout())).get("sessions");
        return sessions.stream().map(s -> (Map<?, ?>) s).filter(s -> name.equals(s.get("name"))).findFirst()
                .orElseThrow(() -> new AssertionError("no session " + name + " in " + list.stdout()));
    }

    private static Result ok(Result result) {
        assertThat(result.exitCode()).as(result.output()).isZero();
        return result;
    }
}
