package dev.banger.bench;

import dev.banger.config.BangerPaths;
import dev.banger.host.network.HostNetwork;
import dev.banger.json.Json;
import dev.banger.testkit.BangerHome;
import dev.banger.testkit.BangerHome.Result;
import dev.banger.testkit.TestAssets;
import dev.banger.vmm.VmmProcess;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The soak of issue 12: {@code ops} random lifecycle operations (create with boot, create --no-start, start, stop,
 * delete --force, exec, kill -9 of a VM's QEMU), each run with probability {@code killChance} alongside a
 * {@code kill -9} of the daemon at a random moment, and after each operation a comparison of the daemon's records
 * with the host: processes, taps, loop devices, files, /dev/shm and handles files. A record that contradicts the
 * host is a disagreement; a host resource no record accounts for (or anything left once every VM is deleted and
 * the daemon stopped) is a leak. Runs in a {@link BangerHome} (its own network namespace and BANGER_HOME).
 *
 * <p>{@code bench/soak.sh N [SEED]} runs {@link #main}; {@code SoakIT} runs a bounded variant. The last line
 * printed is {@code ops=N kills=K disagreements=D leaks=L}.
 */
public final class Soak {

    /** What a soak found. */
    public record Outcome(int ops, int kills, int disagreements, int leaks) {
        public String line() {
            return "ops=" + ops + " kills=" + kills + " disagreements=" + disagreements + " leaks=" + leaks;
        }

        public boolean clean() {
            return disagreements == 0 && leaks == 0;
        }
    }

    /** One VM as {@code vm list --json} shows it. */
    private record VmRow(String id, String name, String state, Long pid, Path vmDir) {
    }

    static final int MAX_VMS = 3;
    private static final Duration BOOT_LIMIT = Duration.ofMinutes(4);
    private static final Duration OP_LIMIT = Duration.ofMinutes(2);
    private static final Duration NOTICE_LIMIT = Duration.ofSeconds(15);
    private static final List<String> KINDS = List.of("create", "create-no-start", "start", "stop", "delete",
            "exec", "kill-qemu");

    private final BangerHome banger;
    private final Random random;
    /** Draws exactly two numbers per operation, so a seed fixes which operations get a daemon kill, and when. */
    private final Random killRandom;
    private final double killChance;
    private final PrintStream out;
    private int kills;
    private int disagreements;
    private int leaks;
    private int nameCounter;

    public Soak(BangerHome banger, long seed, double killChance, PrintStream out) {
        this.banger = banger;
        this.random = new Random(seed);
        this.killRandom = new Random(seed);
        this.killChance = killChance;
        this.out = out;
        out.println("soak: seed " + seed + ", home " + banger.home() + ", netns " + banger.netns());
    }

    public static void main(String[] args) throws Exception {
        int ops = args.length > 0 ? Integer.parseInt(args[0]) : 200;
        long seed = args.length > 1 ? Long.parseLong(args[1]) : System.nanoTime();
        Outcome outcome;
        try (BangerHome home = BangerHome.create()) {
            outcome = new Soak(home, seed, 0.25, System.out).run(ops);
        }
        System.out.println(outcome.line());
        System.exit(outcome.clean() ? 0 : 1);
    }

    /** Imports the test kernel and registers the busybox image, runs {@code ops} operations, then cleans up. */
    public Outcome run(int ops) throws Exception {
        must(banger.banger(Duration.ofMinutes(5), "kernel", "import", "soak", "--deb",
                TestAssets.debianCloudKernelDeb().toString()));
        must(banger.banger("image", "register", "busybox", "--rootfs", TestAssets.busyboxRootfs().toString()));
        for (int i = 1; i <= ops; i++) {
            List<VmRow> vms = check("before op " + i);
            operate(i, vms);
        }
        check("after the last op");
        finish();
        return new Outcome(ops, kills, disagreements, leaks);
    }

    // ---- operations ----

    private void operate(int index, List<VmRow> vms) throws Exception {
        List<VmRow> runningVms = vms.stream().filter(v -> v.state().equals("running")).toList();
        List<VmRow> idle = vms.stream().filter(v -> !v.state().equals("running")).toList();
        String kind = KINDS.get(random.nextInt(KINDS.size()));
        if (kind.startsWith("create") && vms.size() >= MAX_VMS) {
            kind = "delete";
        }
        if ((kind.equals("stop") || kind.equals("exec") || kind.equals("kill-qemu")) && runningVms.isEmpty()) {
            kind = vms.size() < MAX_VMS ? "create" : "start";
        }
        if (kind.equals("start") && idle.isEmpty()) {
            kind = vms.isEmpty() ? "create" : "exec";
        }
        if (kind.equals("exec") && runningVms.isEmpty()) {
            kind = "delete";
        }
        if (kind.equals("delete") && vms.isEmpty()) {
            kind = "create-no-start";
        }
        String[] argv;
        VmRow target = null;
        switch (kind) {
            case "create" -> argv = new String[] {"vm", "create", "--memory", "256M", "--disk", "64M", newName()};
            case "create-no-start" -> argv = new String[] {"vm", "create", "--no-start", "--memory", "256M",
                    "--disk", "64M", newName()};
            case "start" -> {
                target = pick(idle);
                argv = new String[] {"vm", "start", target.name()};
            }
            case "stop" -> {
                target = pick(runningVms);
                argv = new String[] {"vm", "stop", target.name()};
            }
            case "delete" -> {
                target = pick(vms);
                argv = new String[] {"vm", "delete", "--force", target.name()};
            }
            case "exec" -> {
                target = pick(runningVms);
                argv = new String[] {"vm", "exec", target.name(), "--", "echo", "soak-" + index};
            }
            case "kill-qemu" -> {
                target = pick(runningVms);
                argv = null;
            }
            default -> throw new IllegalStateException(kind);
        }
        boolean killDaemon = killRandom.nextDouble() < killChance;
        long killAfterMs = killRandom.nextInt(2500);
        String what = argv == null ? "kill -9 of the QEMU of " + target.name() : String.join(" ", argv);
        long t0 = System.nanoTime();

        if (argv == null) {
            killQemu(target, killDaemon, killAfterMs);
            out.printf("op %d: %s (%d ms)%s%n", index, what, millisSince(t0), killDaemon ? " with a daemon kill"
                    : "");
            return;
        }
        Duration limit = kind.equals("create") || kind.equals("start") ? BOOT_LIMIT : OP_LIMIT;
        CompletableFuture<Result> op = CompletableFuture.supplyAsync(() -> banger.banger(limit, argv));
        boolean killed = false;
        if (killDaemon) {
            Thread.sleep(killAfterMs);
            killed = killDaemonNow();
        }
        Result result;
        try {
            result = op.get(limit.toSeconds() + 30, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            disagree("op " + index + " (" + what + ") did not finish: " + e.getCause().getMessage());
            return;
        }
        out.printf("op %d: %s -> exit %d (%d ms)%s%s%n", index, what, result.exitCode(), millisSince(t0),
                killed ? " daemon killed after " + killAfterMs + " ms" : "",
                result.exitCode() == 0 ? "" : ": " + lastLine(result.output()));
        if (kind.equals("exec") && !killed) {
            if (result.exitCode() != 0 || !result.stdout().equals("soak-" + index + "\n")) {
                disagree("exec on " + target.name() + ", recorded running, failed: " + lastLine(result.output()));
            }
        }
    }

    /** kill -9 of a running VM's QEMU; the daemon must record it stopped or in error within seconds. */
    private void killQemu(VmRow vm, boolean killDaemon, long killAfterMs) throws Exception {
        if (vm.pid() == null) {
            disagree("VM " + vm.name() + " is recorded running with no pid");
            return;
        }
        ProcessHandle.of(vm.pid()).ifPresent(ProcessHandle::destroyForcibly);
        if (killDaemon) {
            Thread.sleep(Math.min(killAfterMs, 500));
            killDaemonNow();
        }
        long deadline = System.nanoTime() + NOTICE_LIMIT.toNanos();
        while (true) {
            Optional<VmRow> now = list().stream().filter(v -> v.id().equals(vm.id())).findFirst();
            if (now.isEmpty() || !now.get().state().equals("running")) {
                return;
            }
            if (System.nanoTime() > deadline) {
                disagree("VM " + vm.name() + " still reads 'running' " + NOTICE_LIMIT.toSeconds()
                        + " s after its QEMU (pid " + vm.pid() + ") was killed");
                return;
            }
            Thread.sleep(500);
        }
    }

    private boolean killDaemonNow() throws InterruptedException {
        Optional<ProcessHandle> daemon = banger.daemonPid().flatMap(ProcessHandle::of)
                .filter(p -> p.info().command().map(c -> c.contains("java")).orElse(false));
        if (daemon.isEmpty()) {
            return false;
        }
        daemon.get().destroyForcibly();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (VmmProcess.stat(daemon.get().pid()).map(s -> !s.exited()).orElse(false)
                && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        kills++;
        return true;
    }

    // ---- records against the host ----

    /**
     * Lists the VMs (which restarts a killed daemon, so its reconcile runs) and compares each record with the
     * host, then looks for host resources no record accounts for.
     */
    private List<VmRow> check(String when) throws Exception {
        List<VmRow> vms = list();
        List<ProcessHandle> processes = banger.processes(); // First: it lets a template build finish.
        Set<String> links = links();
        BangerPaths paths = paths();
        for (VmRow vm : vms) {
            String tap = HostNetwork.tapName(vm.id());
            Path runtime = paths.vmRuntimeDir(vm.id());
            Path handles = paths.vmHandlesFile(vm.id());
            List<ProcessHandle> vmms = processesNaming(processes, runtime.toString() + "/");
            switch (vm.state()) {
                case "running" -> {
                    if (vm.pid() == null || vmms.stream().noneMatch(p -> p.pid() == vm.pid())) {
                        disagree(when + ": VM " + vm.name() + " is recorded running (pid " + vm.pid()
                                + ") but its QEMU is " + (vmms.isEmpty() ? "gone" : "pid " + pids(vmms)));
                    }
                    expect(links.contains(tap), when + ": running VM " + vm.name() + " has no tap " + tap);
                    expect(Files.isRegularFile(handles), when + ": running VM " + vm.name() + " has no handles file");
                    expect(Files.isDirectory(runtime), when + ": running VM " + vm.name() + " has no runtime dir");
                }
                case "created", "stopped", "error" -> {
                    expect(vmms.isEmpty(), when + ": VM " + vm.name() + " is " + vm.state() + " but QEMU pid "
                            + pids(vmms) + " of it runs");
                    expect(!links.contains(tap), when + ": VM " + vm.name() + " is " + vm.state() + " but its tap "
                            + tap + " exists");
                    expect(!Files.exists(runtime), when + ": VM " + vm.name() + " is " + vm.state()
                            + " but its runtime dir exists");
                    expect(!Files.exists(handles), when + ": VM " + vm.name() + " is " + vm.state()
                            + " but its handles file exists");
                    if (!vm.state().equals("error")) {
                        expect(Files.isRegularFile(vm.vmDir().resolve("work.ext4"))
                                        && Files.isRegularFile(vm.vmDir().resolve("root.qcow2")),
                                when + ": VM " + vm.name() + " is " + vm.state() + " but its disks are missing");
                    }
                }
                default -> disagree(when + ": VM " + vm.name() + " is '" + vm.state()
                        + "' with no operation in flight");
            }
        }
        Set<String> ids = new TreeSet<>();
        vms.forEach(v -> ids.add(v.id()));
        Set<String> runningIds = new TreeSet<>();
        vms.stream().filter(v -> v.state().equals("running")).forEach(v -> runningIds.add(v.id()));
        for (ProcessHandle p : processes) {
            String args = commandLine(p);
            if (args.contains("qemu") && runningIds.stream().noneMatch(id ->
                    args.contains(paths.vmRuntimeDir(id) + "/"))) {
                leak(when + ": QEMU pid " + p.pid() + " belongs to no running VM: " + abbreviate(args));
            }
        }
        long daemons = daemons();
        if (daemons > 1) {
            leak(when + ": " + daemons + " daemons run for this home");
        }
        for (String link : links) {
            if (link.startsWith("bt") && ids.stream().noneMatch(id -> link.equals(HostNetwork.tapName(id)))) {
                leak(when + ": tap " + link + " belongs to no VM");
            }
        }
        leakIfUnaccounted(when, "VM dir", children(paths.vmsDir()), ids);
        leakIfUnaccounted(when, "runtime dir", children(paths.runtimeDir().resolve("vms")), ids);
        checkLoopsAndShm(when, paths);
        return vms;
    }

    /** Deletes every VM, stops the daemon, and counts whatever is left as a leak. */
    private void finish() throws Exception {
        List<VmRow> vms = list();
        if (!vms.isEmpty()) {
            List<String> argv = new ArrayList<>(List.of("vm", "delete", "--force"));
            vms.forEach(v -> argv.add(v.name()));
            expect(banger.banger(OP_LIMIT, argv.toArray(String[]::new)).exitCode() == 0, "final delete failed");
        }
        expect(banger.banger("daemon", "stop").exitCode() == 0, "daemon stop failed");
        BangerPaths paths = paths();
        if (daemons() > 0) {
            leak("at the end: a daemon of this home still runs after daemon stop");
        }
        for (ProcessHandle p : banger.processes()) {
            leak("at the end: pid " + p.pid() + " still runs: " + abbreviate(commandLine(p)));
        }
        for (String link : links()) {
            if (link.startsWith("bt")) {
                leak("at the end: tap " + link + " is left");
            }
        }
        leakIfUnaccounted("at the end", "VM dir", children(paths.vmsDir()), Set.of());
        leakIfUnaccounted("at the end", "runtime dir", children(paths.runtimeDir().resolve("vms")), Set.of());
        checkLoopsAndShm("at the end", paths);
        Optional<Path> shm = paths.scratchDir();
        if (shm.isPresent() && Files.exists(shm.get())) {
            leak("at the end: " + shm.get() + " is left");
        }
    }

    private void checkLoopsAndShm(String when, BangerPaths paths) throws Exception {
        for (String line : run(List.of("losetup", "--list", "--noheadings", "--output", "NAME,BACK-FILE"))
                .lines().toList()) {
            if (line.contains(banger.home().toString())) {
                leak(when + ": loop device left: " + line.strip());
            }
        }
        Optional<Path> shm = paths.scratchDir();
        if (shm.isPresent()) {
            for (String entry : children(shm.get())) {
                leak(when + ": " + shm.get().resolve(entry) + " is left");
            }
        }
    }

    private void leakIfUnaccounted(String when, String what, List<String> entries, Set<String> ids) {
        for (String entry : entries) {
            if (!ids.contains(entry)) {
                leak(when + ": " + what + " " + entry + " belongs to no VM");
            }
        }
    }

    // ---- helpers ----

    private List<VmRow> list() {
        Result result = banger.banger(OP_LIMIT, "vm", "list", "--json");
        if (result.exitCode() != 0) {
            throw new IllegalStateException("vm list failed: " + result.output());
        }
        List<VmRow> rows = new ArrayList<>();
        for (Object o : (List<?>) ((Map<?, ?>) Json.parseTree(result.stdout())).get("vms")) {
            Map<?, ?> v = (Map<?, ?>) o;
            Object pid = v.get("pid");
            rows.add(new VmRow((String) v.get("id"), (String) v.get("name"), (String) v.get("state"),
                    pid == null ? null : ((Number) pid).longValue(), Path.of((String) v.get("vmDir"))));
        }
        return rows;
    }

    private BangerPaths paths() {
        return BangerPaths.resolve(Map.of(BangerPaths.HOME_ENV, banger.home().toString()), "/", 0);
    }

    private Set<String> links() throws Exception {
        Set<String> names = new TreeSet<>();
        for (Object l : (List<?>) Json.parseTree(run(banger.inNetns(List.of("ip", "-j", "link", "show"))))) {
            names.add((String) ((Map<?, ?>) l).get("ifname"));
        }
        return names;
    }

    private static String run(List<String> argv) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(argv).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
        }
        return out;
    }

    /** Daemons of this home: bangerd processes whose environment names it. */
    private long daemons() {
        byte[] marker = ("BANGER_HOME=" + banger.home() + "\0").getBytes(StandardCharsets.UTF_8);
        return ProcessHandle.allProcesses().filter(p -> commandLine(p).contains("dev.banger.daemon.Bangerd"))
                .filter(p -> {
                    try {
                        byte[] env = Files.readAllBytes(Path.of("/proc", Long.toString(p.pid()), "environ"));
                        return new String(env, StandardCharsets.ISO_8859_1)
                                .contains(new String(marker, StandardCharsets.ISO_8859_1));
                    } catch (IOException e) {
                        return false;
                    }
                }).count();
    }

    private static List<ProcessHandle> processesNaming(List<ProcessHandle> processes, String marker) {
        return processes.stream().filter(p -> commandLine(p).contains(marker)).toList();
    }

    private static String commandLine(ProcessHandle p) {
        return p.info().command().orElse("") + " " + String.join(" ", p.info().arguments().orElse(new String[0]));
    }

    private static String pids(List<ProcessHandle> processes) {
        return processes.stream().map(p -> Long.toString(p.pid())).reduce((a, b) -> a + ", " + b).orElse("none");
    }

    private static List<String> children(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private String newName() {
        return "s" + (nameCounter++);
    }

    private VmRow pick(List<VmRow> from) {
        return from.get(random.nextInt(from.size()));
    }

    private void expect(boolean fact, String otherwise) {
        if (!fact) {
            disagree(otherwise);
        }
    }

    private void disagree(String what) {
        disagreements++;
        out.println("DISAGREEMENT " + what);
    }

    private void leak(String what) {
        leaks++;
        out.println("LEAK " + what);
    }

    private static void must(Result result) {
        if (result.exitCode() != 0) {
            throw new IllegalStateException("soak set-up failed: " + result.output());
        }
    }

    private static String lastLine(String text) {
        String t = text.strip();
        return t.substring(t.lastIndexOf('\n') + 1);
    }

    private static String abbreviate(String text) {
        return text.length() > 200 ? text.substring(0, 200) + "..." : text;
    }

    private static long millisSince(long t0) {
        return (System.nanoTime() - t0) / 1_000_000;
    }
}
