package dev.banger.workspace;

import static org.assertj.core.api.Assertions.assertThat;

import dev.banger.json.Json;
import dev.banger.testkit.BangerHome;
import dev.banger.testkit.BangerHome.Result;
import dev.banger.testkit.TestAssets;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** {@code banger vm run} from a git checkout, as a user types it. */
@Tag("vm")
class VmRunIT {

    private BangerHome banger;
    private Path repo;

    @BeforeEach
    void setUp() throws Exception {
        banger = BangerHome.create();
        ok(banger.banger("kernel", "import", "cloud", "--deb", TestAssets.debianCloudKernelDeb().toString()));
        ok(banger.banger("image", "register", "busybox", "--rootfs", TestAssets.busyboxRootfs().toString()));
        repo = banger.home().resolve("project");
        Files.createDirectories(repo.resolve("src"));
        git("init", "-q", "-b", "main");
        Files.writeString(repo.resolve("committed.txt"), "committed\n");
        Files.writeString(repo.resolve("modified.txt"), "as committed\n");
        Files.writeString(repo.resolve(".gitignore"), "*.log\n");
        Files.writeString(repo.resolve("src/nested.txt"), "nested\n");
        git("add", ".");
        git("-c", "user.email=t@example.com", "-c", "user.name=T", "commit", "-q", "-m", "first");
        Files.writeString(repo.resolve("modified.txt"), "changed in the working tree\n");
        Files.writeString(repo.resolve("untracked.txt"), "untracked\n");
        Files.writeString(repo.resolve("build.log"), "ignored\n");
    }

    @AfterEach
    void tearDown() throws Exception {
        banger.close();
    }

    @Test
    void theWorkspaceArrivesAsItIsAndExitCodesPropagate() throws Exception {
        Result run = run("vm", "run", "--name", "ws", "--memory", "256M", "--disk", "64M", "--", "sh", "-c",
                "pwd; cat committed.txt modified.txt untracked.txt src/nested.txt; test -e build.log || echo no-log;"
                        + " test -d .git && echo has-git");

        assertThat(run.exitCode()).as(run.output()).isZero();
        assertThat(run.stdout()).isEqualTo("/root/project\ncommitted\nchanged in the working tree\nuntracked\nnested\n"
                + "no-log\nhas-git\n");
        assertThat(run.stderr()).as("progress goes to stderr").contains("creating VM ws", "guest ready");

        Result nested = runIn(repo.resolve("src"), "vm", "run", "--name", "ws3", "--memory", "256M", "--", "sh",
                "-c", "pwd; cat nested.txt");
        assertThat(nested.exitCode()).as(nested.output()).isZero();
        assertThat(nested.stdout()).as("the command runs where the user is in the repository")
                .isEqualTo("/root/project/src\nnested\n");

        Result failing = run("vm", "run", "--name", "ws2", "--memory", "256M", "--disk", "64M", "--", "sh", "-c",
                "echo failing >&2; exit 7");
        assertThat(failing.exitCode()).isEqualTo(7);
        assertThat(failing.stderr()).endsWith("failing\n");
        assertThat(names()).as("without --rm the VMs stay").containsExactlyInAnyOrder("ws", "ws2", "ws3");

        Result notExecutable = banger.banger("vm", "exec", "ws", "--", "/root/project/committed.txt");
        assertThat(notExecutable.exitCode()).as("as a shell: exists but cannot be executed").isEqualTo(126);
        assertThat(notExecutable.stderr()).isEqualTo("banger: /root/project/committed.txt: Permission denied\n");
    }

    @Test
    void rmDeletesTheVmWhateverHappened() throws Exception {
        Result ok = run("vm", "run", "--rm", "--memory", "256M", "--disk", "64M", "--", "true");
        Result failing = run("vm", "run", "--rm", "--memory", "256M", "--disk", "64M", "--", "sh", "-c", "exit 3");
        Result missing = run("vm", "run", "--rm", "--memory", "256M", "--disk", "64M", "--", "no-such-command");

        assertThat(ok.exitCode()).as(ok.output()).isZero();
        assertThat(failing.exitCode()).isEqualTo(3);
        assertThat(missing.exitCode()).as("as a shell: command not found").isEqualTo(127);
        assertThat(missing.stderr()).endsWith("banger: no-such-command: command not found\n");
        assertThat(names()).isEmpty();
        assertThat(banger.processes()).as("no QEMU left").isEmpty();
        assertThat(children(banger.stateDir().resolve("vms"))).isEmpty();
    }

    @Test
    void rmAlsoHoldsWhenTheClientIsKilled() throws Exception {
        Path cliOutput = banger.home().resolve("doomed-cli.txt");
        Process cli = start(cliOutput, "vm", "run", "--rm", "--name", "doomed", "--memory", "256M", "--disk", "64M",
                "--", "sleep", "600");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        try {
            awaitRunning("doomed", cli, cliOutput, deadline);
            Thread.sleep(1000); // The command is running.
        } finally {
            // What the test is about; and after a failed wait, no client is left behind.
            cli.descendants().forEach(ProcessHandle::destroyForcibly);
            cli.destroyForcibly();
        }

        while (names().contains("doomed")) {
            assertThat(System.nanoTime()).as("the daemon deleted the VM").isLessThan(deadline);
            Thread.sleep(200);
        }
        assertThat(banger.processes().stream().filter(p -> p.info().command().orElse("").contains("qemu")))
                .isEmpty();
    }

    @Test
    void stdinIsForwardedWhenPiped() throws Exception {
        List<String> argv = new ArrayList<>(List.of(BangerHome.root().resolve("bin/banger").toString(), "vm", "run",
                "--rm", "--no-workspace", "--memory", "256M", "--disk", "64M", "--", "tr", "a-z", "A-Z"));
        Path in = Files.writeString(banger.home().resolve("in.txt"), "piped text\n");
        Path out = banger.home().resolve("out.txt");
        Path err = banger.home().resolve("err.txt");
        Process p = builder(argv).redirectInput(in.toFile()).redirectOutput(out.toFile())
                .redirectError(err.toFile()).start();

        awaitExit(p, err);
        assertThat(p.exitValue()).as(Files.readString(err)).isZero();
        assertThat(Files.readString(out)).isEqualTo("PIPED TEXT\n");
    }

    private Result run(String... args) throws Exception {
        return runIn(repo, args);
    }

    private Result runIn(Path dir, String... args) throws Exception {
        List<String> argv = new ArrayList<>();
        argv.add(BangerHome.root().resolve("bin/banger").toString());
        argv.addAll(List.of(args));
        Path out = Files.createTempFile(banger.home(), "out", ".txt");
        Path err = Files.createTempFile(banger.home(), "err", ".txt");
        Process p = builder(argv).directory(dir.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        awaitExit(p, err);
        return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    /**
     * Waits up to 180 s for a CLI this test started; when it hangs, kills it with its children (no vm run outlives
     * the test) and fails with its stderr and what the daemon and the consoles said.
     */
    private void awaitExit(Process cli, Path stderr) throws InterruptedException {
        if (cli.waitFor(180, TimeUnit.SECONDS)) {
            return;
        }
        cli.descendants().forEach(ProcessHandle::destroyForcibly);
        cli.destroyForcibly();
        cli.waitFor(10, TimeUnit.SECONDS);
        throw new AssertionError("banger did not exit within 180 s" + banger.whatWasGoingOn(stderr));
    }

    /** Starts a banger command in the repository without waiting for it; its stdout and stderr go to {@code out}. */
    private Process start(Path out, String... args) throws Exception {
        List<String> argv = new ArrayList<>();
        argv.add(BangerHome.root().resolve("bin/banger").toString());
        argv.addAll(List.of(args));
        return builder(argv).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectErrorStream(true).redirectOutput(out.toFile()).start();
    }

    /** A banger command run from inside the repository, in the test's namespace and home. */
    private ProcessBuilder builder(List<String> argv) {
        ProcessBuilder pb = new ProcessBuilder(banger.inNetns(argv)).directory(repo.toFile());
        pb.environment().put("BANGER_HOME", banger.home().toString());
        if (System.getProperty("banger.build.dir") != null) {
            pb.environment().put("BANGER_BUILD_DIR", System.getProperty("banger.build.dir"));
        }
        return pb;
    }

    private List<String> names() {
        List<String> names = new ArrayList<>();
        for (Object vm : (List<?>) ((Map<?, ?>) Json.parseTree(ok(banger.banger("vm", "list", "--json")).stdout()))
                .get("vms")) {
            names.add((String) ((Map<?, ?>) vm).get("name"));
        }
        return names;
    }

    /** Waits until {@code vm}'s state is running; fails at once, saying why, when {@code cli} exits first. */
    private void awaitRunning(String vm, Process cli, Path cliOutput, long deadline) throws InterruptedException {
        while (true) {
            Result show = banger.banger("vm", "show", vm, "--json");
            if ("running".equals(state(show))) {
                return;
            }
            if (!cli.isAlive()) {
                throw new AssertionError("vm run exited " + cli.exitValue() + " before its VM was running"
                        + banger.whatWasGoingOn(cliOutput));
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the VM was not running within 120 s; vm show said: " + show.output()
                        + banger.whatWasGoingOn(cliOutput));
            }
            Thread.sleep(200);
        }
    }

    /** The state {@code vm show --json} gave, or null when it failed (no such VM yet). */
    private static String state(Result show) {
        return show.exitCode() == 0 ? (String) ((Map<?, ?>) Json.parseTree(show.stdout())).get("state") : null;
    }

    private void git(String... args) throws Exception {
        List<String> argv = new ArrayList<>(List.of("git", "-C", repo.toString()));
        argv.addAll(List.of(args));
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(out).isZero();
    }

    private static List<String> children(Path dir) throws Exception {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).toList();
        }
    }

    private static Result ok(Result result) {
        assertThat(result.exitCode()).as(result.output()).isZero();
        return result;
    }
}
