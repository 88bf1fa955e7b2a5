package dev.banger.testkit;

import dev.banger.util.Files2;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * An isolated banger installation for a test: its own {@code BANGER_HOME} and its own network namespace (so the
 * bridge, taps and guest traffic never touch the host's), running the real {@code bin/banger} and
 * {@code bin/bangerd} of the build under test. Closing it stops the daemon (killing it if it will not stop), kills
 * whatever still names the home, deletes the namespace and the home.
 */
public final class BangerHome implements AutoCloseable {

    /** What a finished banger process printed and returned. */
    public record Result(int exitCode, String stdout, String stderr) {
        public String output() {
            return stdout + stderr;
        }
    }

    private final Path home;
    private final String netns;

    private BangerHome(Path home, String netns) {
        this.home = home;
        this.netns = netns;
    }

    public static BangerHome create() throws IOException {
        return create(true);
    }

    /**
     * A home (in its own network namespace) with Debian's cloud kernel imported as {@code cloud} and the busybox
     * test image registered as {@code busybox}: where most VM tests start.
     */
    public static BangerHome createWithBusyboxGuest() throws IOException {
        BangerHome home = create();
        try {
            home.require(home.banger("kernel", "import", "cloud", "--deb",
                    TestAssets.debianCloudKernelDeb().toString()));
            home.require(home.banger("image", "register", "busybox", "--rootfs",
                    TestAssets.busyboxRootfs().toString()));
            return home;
        } catch (RuntimeException | Error e) {
            home.close();
            throw e;
        }
    }

    private void require(Result result) {
        if (result.exitCode() != 0) {
            throw new AssertionError("exit " + result.exitCode() + ": " + result.output());
        }
    }

    /** The names of the network links in this home's namespace. */
    public List<String> links() throws IOException, InterruptedException {
        Process p = new ProcessBuilder(inNetns(List.of("ip", "-j", "link", "show"))).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(10, TimeUnit.SECONDS);
        List<String> names = new ArrayList<>();
        for (Object l : (List<?>) dev.banger.json.Json.parseTree(out)) {
            names.add((String) ((java.util.Map<?, ?>) l).get("ifname"));
        }
        return names;
    }

    /**
     * A home whose daemon runs in the host's network namespace: only for tests that need the outside network
     * (Debian's mirror) and boot no VM, so no bridge or tap is ever created there.
     */
    public static BangerHome createInHostNamespace() throws IOException {
        return create(false);
    }

    private static BangerHome create(boolean isolated) throws IOException {
        Path home = Files.createTempDirectory("banger-home-");
        if (!isolated) {
            return new BangerHome(home, null);
        }
        String netns = "bgt-" + home.getFileName().toString().replaceAll("[^0-9]", "");
        netns = netns.substring(0, Math.min(netns.length(), 15));
        HostCommands.run(List.of("ip", "netns", "add", netns));
        HostCommands.run(List.of("ip", "netns", "exec", netns, "ip", "link", "set", "lo", "up"));
        return new BangerHome(home, netns);
    }

    /** The network namespace the daemon, its VMs and every command of this home run in. */
    public String netns() {
        return netns;
    }

    /** argv prefixed to run inside this home's network namespace (unchanged without one). */
    public List<String> inNetns(List<String> argv) {
        if (netns == null) {
            return argv;
        }
        List<String> all = new ArrayList<>(List.of("ip", "netns", "exec", netns));
        all.addAll(argv);
        return all;
    }

    private void environment(ProcessBuilder pb) {
        pb.environment().put("BANGER_HOME", home.toString());
        String build = System.getProperty("banger.build.dir");
        if (build != null) {
            pb.environment().put("BANGER_BUILD_DIR", build);
        }
    }

    public Path home() {
        return home;
    }

    public Path socket() {
        return home.resolve("run/bangerd.sock");
    }

    public Path stateDir() {
        return home.resolve("state");
    }

    public static Path root() {
        return Path.of(System.getProperty("banger.root", ".")).toAbsolutePath().normalize();
    }

    /** Runs {@code bin/banger ARGS} to completion (60 s limit). */
    public Result banger(String... args) {
        return banger(java.time.Duration.ofSeconds(60), args);
    }

    /** Runs {@code bin/banger ARGS} to completion within {@code limit}. */
    public Result banger(java.time.Duration limit, String... args) {
        return run(limit, "banger", args);
    }

    /**
     * Starts {@code bin/banger ARGS} without waiting for it (a command expected to block for a while); its output
     * goes to {@code out}. The caller waits for it or destroys it.
     */
    public Process start(Path out, String... args) throws IOException {
        List<String> argv = new ArrayList<>();
        argv.add(root().resolve("bin/banger").toString());
        argv.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(inNetns(argv));
        environment(pb);
        pb.redirectErrorStream(true).redirectOutput(out.toFile());
        return pb.start();
    }

    /** Runs {@code bin/banger ARGS} as {@code user} (60 s limit), in {@code /}. */
    public Result bangerAs(TestUser user, String... args) {
        return bangerAsIn(user, Path.of("/"), args);
    }

    /**
     * Runs {@code bin/banger ARGS} as {@code user} (60 s limit) in {@code dir}, which the user need not be able to
     * enter (the directory is changed to before the user's privileges are taken).
     */
    public Result bangerAsIn(TestUser user, Path dir, String... args) {
        return bangerAsIn(java.time.Duration.ofSeconds(60), user, dir, args);
    }

    /** As {@link #bangerAsIn(TestUser, Path, String...)}, within {@code limit}. */
    public Result bangerAsIn(java.time.Duration limit, TestUser user, Path dir, String... args) {
        return run(limit, user, dir, "banger", args);
    }

    /** Starts {@code bin/bangerd} in the foreground as a child process. */
    public Process startDaemonProcess() throws IOException {
        ProcessBuilder pb = new ProcessBuilder(inNetns(List.of(root().resolve("bin/bangerd").toString())));
        environment(pb);
        pb.redirectErrorStream(true);
        pb.redirectOutput(home.resolve("bangerd-test.out").toFile());
        return pb.start();
    }

    public String daemonTestOutput() throws IOException {
        Path out = home.resolve("bangerd-test.out");
        return Files.exists(out) ? Files.readString(out) : "";
    }

    private Result run(java.time.Duration limit, String launcher, String... args) {
        return run(limit, null, null, launcher, args);
    }

    private Result run(java.time.Duration limit, TestUser user, Path dir, String launcher, String... args) {
        List<String> argv = new ArrayList<>();
        argv.add(root().resolve("bin").resolve(launcher).toString());
        argv.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(inNetns(user == null ? argv : user.as(argv)));
        environment(pb);
        if (user != null) {
            pb.environment().put("HOME", "/nonexistent");
            pb.directory(dir.toFile());
        }
        try {
            Path out = Files.createTempFile(home, "out", ".txt");
            Path err = Files.createTempFile(home, "err", ".txt");
            pb.redirectOutput(out.toFile()).redirectError(err.toFile());
            Process p = pb.start();
            if (!p.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("banger " + String.join(" ", args) + " did not finish within "
                        + limit.toSeconds() + "s" + whatWasGoingOn(err));
            }
            Result result = new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
            Files.delete(out);
            Files.delete(err);
            return result;
        } catch (IOException e) {
            throw new AssertionError("cannot run banger: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /**
     * For a call that hung or a wait that ran out: the end of {@code cliOutput} (the call's stderr so far), of the
     * daemon's log and of every VM's serial console (the home is deleted when the test ends, and a hang in CI is
     * otherwise a mystery).
     */
    public String whatWasGoingOn(Path cliOutput) {
        StringBuilder b = new StringBuilder();
        appendTail(b, "its output", cliOutput, 20);
        appendTail(b, "bangerd.log", stateDir().resolve("logs/bangerd.log"), 40);
        try (Stream<Path> consoles = Files.exists(stateDir().resolve("vms"))
                ? Files.find(stateDir().resolve("vms"), 3, (f, a) -> f.getFileName().toString().equals("console.log"))
                : Stream.empty()) {
            consoles.forEach(c -> appendTail(b, stateDir().relativize(c).toString(), c, 15));
        } catch (IOException | UncheckedIOException e) {
            b.append("\n(cannot list the VMs' consoles: ").append(e).append(')');
        }
        return b.toString();
    }

    private static void appendTail(StringBuilder b, String what, Path file, int lines) {
        b.append("\n--- ").append(what).append(" (last ").append(lines).append(" lines) ---\n");
        try {
            List<String> all = List.of(new String(Files.readAllBytes(file), StandardCharsets.UTF_8).split("\n"));
            all.subList(Math.max(0, all.size() - lines), all.size()).forEach(l -> b.append(l).append('\n'));
        } catch (IOException | UncheckedIOException e) {
            b.append("(unreadable: ").append(e).append(")\n");
        }
    }

    /** The pid written into the state lock, if a daemon ever ran here. */
    public Optional<Long> daemonPid() {
        Path lock = home.resolve("state/bangerd.lock");
        try {
            String text = Files.exists(lock) ? Files.readString(lock).trim() : "";
            return text.isEmpty() ? Optional.empty() : Optional.of(Long.parseLong(text));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /**
     * Processes (VMMs, a daemon) whose command line names this home: what a test may have left running. A template
     * build the daemon started after a VM's first boot (docs/snapshots.md) is let finish first (up to 180 s): its
     * QEMU, tap and runtime dir are the daemon's for a few seconds, not something a test left.
     */
    public List<ProcessHandle> processes() {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (templateBuildInProgress() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return processesNow();
    }

    /**
     * True while this home's daemon runs and a template build is under way: a {@code templates/.building-*} dir
     * (from the start of a build to its publication) or its QEMU. Without a daemon nobody finishes a build; the next
     * daemon's reconcile removes what it left.
     */
    private boolean templateBuildInProgress() {
        if (daemonPid().flatMap(ProcessHandle::of).map(ProcessHandle::isAlive).orElse(false)) {
            Path templates = stateDir().resolve("templates");
            try (java.util.stream.Stream<Path> dirs = Files.isDirectory(templates) ? Files.list(templates)
                    : java.util.stream.Stream.empty()) {
                if (dirs.anyMatch(d -> d.getFileName().toString().startsWith(".building-"))) {
                    return true;
                }
            } catch (IOException e) {
                // Listed again at the next poll.
            }
            return processesNow().stream().anyMatch(BangerHome::isTemplateBuild);
        }
        return false;
    }

    /** A QEMU the daemon runs to build a template (its command line names a {@code templates/.building-*} dir). */
    public static boolean isTemplateBuild(ProcessHandle p) {
        return p.info().arguments().map(a -> String.join(" ", a).contains("/templates/.building-")).orElse(false);
    }

    /** As {@link #processes()}, without waiting for template builds. */
    public List<ProcessHandle> processesNow() {
        String marker = home.toString();
        return ProcessHandle.allProcesses()
                .filter(p -> p.pid() != ProcessHandle.current().pid())
                .filter(p -> p.info().arguments().map(args -> String.join(" ", args).contains(marker)).orElse(false))
                .toList();
    }

    @Override
    public void close() throws IOException {
        try {
            if (Files.exists(socket())) {
                banger("daemon", "stop");
            }
        } finally {
            daemonPid().flatMap(ProcessHandle::of).ifPresent(p -> {
                if (p.info().command().map(c -> c.contains("java")).orElse(false)) {
                    p.destroyForcibly();
                }
            });
            for (ProcessHandle p : processes()) {
                p.destroyForcibly();
                p.onExit().orTimeout(10, TimeUnit.SECONDS).exceptionally(e -> p).join();
            }
            if (netns != null) {
                HostCommands.run(List.of("ip", "netns", "del", netns));
            }
            Files2.deleteRecursively(home);
        }
    }
}
