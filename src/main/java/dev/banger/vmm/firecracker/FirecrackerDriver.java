package dev.banger.vmm.firecracker;

import dev.banger.guest.AgentTransport;
import dev.banger.guest.FirecrackerVsockTransport;
import dev.banger.guest.RetryPolicy;
import dev.banger.host.Executables;
import dev.banger.model.KernelFormat;
import dev.banger.model.VmmKind;
import dev.banger.util.UndoStack;
import dev.banger.vmm.DiskSpec;
import dev.banger.vmm.InvalidVmSpecException;
import dev.banger.vmm.Snapshot;
import dev.banger.vmm.VmSpec;
import dev.banger.vmm.VmmDriver;
import dev.banger.vmm.VmmException;
import dev.banger.vmm.VmmHandle;
import dev.banger.vmm.VmmProcess;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs VMs with Firecracker. {@link #launch} starts {@code firecracker --api-sock PATH --id ID} in its own session
 * ({@code setsid}; stdin /dev/null, stdout - the guest's serial console - into the spec's console log, stderr into
 * {@code firecracker.stderr} in the VM directory), waits for the API socket to answer, then configures the VM over
 * the API in a fixed order of named steps (logger, metrics, machine-config, boot-source, drives,
 * network-interfaces, vsock) and sends {@code InstanceStart}. Every step registers its cleanup as it goes, so a
 * failure anywhere kills the process and removes its sockets before the error, which carries Firecracker's
 * {@code fault_message}, is thrown.
 *
 * <p>All drives are attached with {@code is_root_device=false}: banger boots every guest through its own
 * initramfs, whose banger-init mounts {@code banger.root=/dev/vda} itself. Firecracker keeps non-root drives in
 * the order they were added, so the spec's first disk (the root) is still {@code /dev/vda}; marking it as the
 * root device would only make Firecracker append {@code root=/dev/vda} to the command line, which nothing reads.
 *
 * <p>The guest agent listens on vsock port {@value #AGENT_VSOCK_PORT}; the host reaches it through Firecracker's
 * hybrid vsock socket (the spec's agent socket) with {@code CONNECT 1024}.
 *
 * <p>Snapshots ({@link #capture}, {@link #restore}; docs/firecracker.md): a full snapshot of a paused guest, loaded
 * by a fresh process with the memory file mapped privately. Templates (docs/snapshots.md) keep a Firecracker
 * guest's root disk as a raw file, which each clone copies and attaches as its own.
 */
public final class FirecrackerDriver implements VmmDriver {

    public static final String BINARY = "firecracker";
    public static final int AGENT_VSOCK_PORT = 1024;
    /** Firecracker's vCPU limit (swagger: MachineConfiguration.vcpu_count maximum). */
    public static final int MAX_VCPUS = 32;
    public static final Duration DEFAULT_START_TIMEOUT = Duration.ofSeconds(10);

    static final Duration API_TIMEOUT = Duration.ofSeconds(10);
    /** A full snapshot writes all guest memory (GiBs at disk speed); minutes would mean something is wrong. */
    static final Duration CAPTURE_TIMEOUT = Duration.ofMinutes(5);
    static final Duration PROBE_TIMEOUT = Duration.ofSeconds(2);
    static final Duration FAILED_LAUNCH_GRACE = Duration.ofSeconds(1);
    static final String NIC_ID = "eth0";
    static final String INSTALL_HINT = "install the release binary from "
            + "https://github.com/firecracker-microvm/firecracker/releases as /usr/local/bin/firecracker "
            + "(see docs/firecracker.md), or use --vmm qemu";

    private static final Logger log = LoggerFactory.getLogger(FirecrackerDriver.class);
    private static final Pattern INSTANCE_ID = Pattern.compile("[A-Za-z0-9-]{1,64}");
    private static final long MAX_CID = 0xFFFF_FFFFL;

    private final Executables executables;
    private final Duration startTimeout;
    private final RetryPolicy agentRetry;

    /**
     * @param executables where to find {@code firecracker} and {@code setsid}
     * @param startTimeout how long the process may take to answer on its API socket
     * @param agentRetry how {@link #agentTransport} retries while the guest agent is not listening yet
     */
    public FirecrackerDriver(Executables executables, Duration startTimeout, RetryPolicy agentRetry) {
        this.executables = executables;
        this.startTimeout = startTimeout;
        this.agentRetry = agentRetry;
    }

    /** A driver that looks for {@code firecracker} in PATH and the system bin directories. */
    public static FirecrackerDriver forHost() {
        return new FirecrackerDriver(Executables.fromEnvironment(), DEFAULT_START_TIMEOUT, RetryPolicy.DEFAULT);
    }

    @Override
    public VmmKind kind() {
        return VmmKind.FIRECRACKER;
    }

    @Override
    public void requireAvailable() {
        binary();
    }

    /** The {@code firecracker} binary, or a {@link VmmException} saying how to install it. */
    public Path binary() {
        return executables.find(BINARY).orElseThrow(() -> new VmmException(
                "Firecracker is not installed: no '" + BINARY + "' program in PATH or the system bin directories; "
                        + INSTALL_HINT));
    }

    @Override
    public Optional<Path> program() {
        return executables.find(BINARY);
    }

    /**
     * True where {@code firecracker} is installed: its snapshots are all a template needs from it (the template's
     * root disk is a raw file, docs/snapshots.md).
     */
    @Override
    public boolean canCapture() {
        return program().isPresent();
    }

    @Override
    public VmmHandle launch(VmSpec spec) {
        return start(spec, "start", DrivePaths.ABSOLUTE, steps(spec, DrivePaths.ABSOLUTE));
    }

    /**
     * A normal launch (Firecracker writes the guest's memory only at {@link #capture}), except that the drives are
     * attached through links in the VM directory ({@link DrivePaths#LINKED}): a snapshot records each drive's
     * path as given, and a clone restored from it must open its own disks, not these.
     */
    @Override
    public VmmHandle launchForCapture(VmSpec spec, Snapshot snapshot) {
        return start(spec, "start", DrivePaths.LINKED, steps(spec, DrivePaths.LINKED));
    }

    /**
     * {@code PATCH /vm} to Paused, then {@code PUT /snapshot/create}: a full snapshot, the device state to
     * {@code snapshot.deviceState()} and all guest memory to {@code snapshot.memory()} (both created or truncated).
     * The guest stays paused; its vsock connections are reset.
     */
    @Override
    public void capture(VmmHandle handle, Snapshot snapshot) {
        FirecrackerApi fc = new FirecrackerApi(handle.controlSocket(), CAPTURE_TIMEOUT);
        try {
            fc.pause();
            fc.createSnapshot(new FirecrackerApi.SnapshotCreateParams(FirecrackerApi.SnapshotCreateParams.FULL,
                    snapshot.deviceState().toAbsolutePath().toString(), snapshot.memory().toAbsolutePath().toString()));
        } catch (VmmException e) {
            throw new VmmException("Firecracker could not capture VM " + handle.vmId() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Starts {@code firecracker} with only its API socket, configures the logger and metrics (the only things
     * Firecracker accepts before a load), links the spec's disks where the captured guest's drives were
     * ({@link DrivePaths#LINKED}), then {@code PUT /snapshot/load}: the memory file mapped privately
     * ({@code mem_backend} File), the network interface moved to the spec's tap ({@code network_overrides}), the
     * vsock device to the spec's agent socket ({@code vsock_override}), and {@code resume_vm}. The guest keeps what
     * was captured: its kernel command line, vsock CID, MAC address and machine size; the spec's are not applied.
     * The guest's vsock connections were reset at capture; its agent accepts new ones.
     */
    @Override
    public VmmHandle restore(VmSpec spec, Snapshot snapshot) {
        Path vmDir = spec.vmDir().toAbsolutePath();
        List<Step> steps = new ArrayList<>();
        steps.add(loggerStep(vmDir));
        steps.add(metricsStep(vmDir));
        List<FirecrackerApi.NetworkOverride> nics = spec.network()
                .map(net -> List.of(new FirecrackerApi.NetworkOverride(NIC_ID, net.tapName())))
                .orElse(null);
        steps.add(new Step("snapshot/load", fc -> fc.loadSnapshot(new FirecrackerApi.SnapshotLoadParams(
                snapshot.deviceState().toAbsolutePath().toString(),
                new FirecrackerApi.MemoryBackend(FirecrackerApi.MemoryBackend.FILE,
                        snapshot.memory().toAbsolutePath().toString()),
                true, nics, new FirecrackerApi.VsockOverride(spec.agentSocket().toAbsolutePath().toString())))));
        return start(spec, "restore", DrivePaths.LINKED, steps);
    }

    /**
     * Checks {@code spec}, removes stale sockets, starts the process, makes {@code steps} in order and checks the
     * VM runs. On any failure the process is killed and both sockets are removed before the error is thrown.
     *
     * @param what what is being done, for the error ("start", "restore")
     * @param paths how the drives name their files; {@link DrivePaths#LINKED} makes the links first
     */
    private VmmHandle start(VmSpec spec, String what, DrivePaths paths, List<Step> steps) {
        spec.validate();
        List<String> problems = problems(spec);
        if (!problems.isEmpty()) {
            throw new InvalidVmSpecException(spec.name(), problems);
        }
        Path binary = binary();
        Path vmDir = spec.vmDir().toAbsolutePath();
        Path api = spec.controlSocket().toAbsolutePath();
        Path vsock = spec.agentSocket().toAbsolutePath();
        // Firecracker refuses to bind an API or vsock socket whose path exists, e.g. left by a killed process.
        deleteFiles(api, vsock);
        UndoStack undo = new UndoStack();
        undo.push("remove " + api + " and " + vsock, () -> deleteFiles(api, vsock));
        try {
            // Firecracker creates its log and metrics files but does not truncate them: it would write this
            // run's lines over the last run's and leave their tail behind, so both start empty.
            truncate(FirecrackerFiles.logFile(vmDir));
            truncate(FirecrackerFiles.metricsFile(vmDir));
            truncate(FirecrackerFiles.stderrFile(vmDir));
            if (paths == DrivePaths.LINKED) {
                linkDrives(spec);
            }

            VmmHandle handle = spawn(binary, spec, api, vsock);
            undo.push("terminate firecracker (pid " + handle.pid() + ")",
                    () -> VmmProcess.terminate(handle.pid(), handle.startTicks(), FAILED_LAUNCH_GRACE));
            awaitApi(handle, spec);

            FirecrackerApi fc = new FirecrackerApi(api, API_TIMEOUT);
            for (Step step : steps) {
                log.debug("VM {}: {}", spec.name(), step.name());
                step.action().accept(fc);
            }
            FirecrackerApi.InstanceInfo info = fc.describeInstance();
            if (!info.running()) {
                throw new VmmException("Firecracker accepted " + steps.get(steps.size() - 1).name()
                        + " but reports state \"" + info.state() + "\"");
            }
            return handle;
        } catch (RuntimeException e) {
            undo.unwind(e);
            throw new VmmException("Firecracker could not " + what + " VM " + spec.name() + ": " + e.getMessage()
                    + stderrHint(vmDir), e);
        }
    }

    /** One named configuration call, run in order by {@link #launch}. */
    record Step(String name, Consumer<FirecrackerApi> action) {
    }

    /** The API calls that configure and boot {@code spec}, in the order they are made. */
    List<Step> steps(VmSpec spec, DrivePaths paths) {
        Path vmDir = spec.vmDir().toAbsolutePath();
        List<Step> steps = new ArrayList<>();
        steps.add(loggerStep(vmDir));
        steps.add(metricsStep(vmDir));
        steps.add(new Step("machine-config", fc -> fc.putMachineConfig(new FirecrackerApi.MachineConfiguration(
                spec.vcpus(), spec.memoryMib(), false))));
        steps.add(new Step("boot-source", fc -> fc.putBootSource(new FirecrackerApi.BootSource(
                spec.kernel().toAbsolutePath().toString(),
                spec.initrd() == null ? null : spec.initrd().toAbsolutePath().toString(),
                BootArgs.build(spec.kernelCmdline(), AGENT_VSOCK_PORT)))));
        for (FirecrackerApi.Drive drive : drives(spec, paths)) {
            steps.add(new Step("drive " + drive.drive_id(), fc -> fc.putDrive(drive)));
        }
        spec.network().ifPresent(net -> steps.add(new Step("network-interface " + NIC_ID,
                fc -> fc.putNetworkInterface(new FirecrackerApi.NetworkInterface(NIC_ID, net.tapName(),
                        net.mac().toLowerCase(Locale.ROOT))))));
        steps.add(new Step("vsock", fc -> fc.putVsock(new FirecrackerApi.Vsock(spec.guestCid(),
                spec.agentSocket().toAbsolutePath().toString()))));
        steps.add(new Step("InstanceStart", FirecrackerApi::instanceStart));
        return steps;
    }

    private static Step loggerStep(Path vmDir) {
        return new Step("logger", fc -> fc.putLogger(new FirecrackerApi.Logger(
                FirecrackerFiles.logFile(vmDir).toString(), "Warning", true, false)));
    }

    private static Step metricsStep(Path vmDir) {
        return new Step("metrics", fc -> fc.putMetrics(new FirecrackerApi.Metrics(
                FirecrackerFiles.metricsFile(vmDir).toString())));
    }

    /**
     * How drives name their files. A snapshot records each drive's {@code path_on_host} as it was given and a
     * restore opens that path again (Firecracker has no override for drives), so a guest that will be captured
     * names its disks by paths that lead to each clone's own disks.
     */
    enum DrivePaths {
        /** The disk's absolute path: a VM that is never captured. */
        ABSOLUTE,
        /**
         * {@code fc-drives/<drive_id>}, relative to the VM directory (Firecracker's working directory): a link there
         * leads to the disk. The captured guest's links lead to its disks, each clone's to the clone's.
         */
        LINKED
    }

    /** The spec's disks as Firecracker drives, in attach order: {@code root}, then {@code work}, {@code work_2}... */
    static List<FirecrackerApi.Drive> drives(VmSpec spec, DrivePaths paths) {
        List<FirecrackerApi.Drive> drives = new ArrayList<>();
        int[] seen = new int[DiskSpec.Role.values().length];
        for (DiskSpec disk : spec.disks()) {
            int n = ++seen[disk.role().ordinal()];
            String id = disk.role().name().toLowerCase(Locale.ROOT) + (n == 1 ? "" : "_" + n);
            String path = paths == DrivePaths.ABSOLUTE ? disk.path().toAbsolutePath().toString()
                    : FirecrackerFiles.DRIVE_LINKS_DIR + "/" + id;
            drives.add(new FirecrackerApi.Drive(id, path, false, disk.readOnly()));
        }
        return drives;
    }

    /**
     * Points {@code VMDIR/fc-drives/<drive_id>} at each of the spec's disks (replacing older links), so a
     * {@link DrivePaths#LINKED} drive, captured or restored, opens this VM's disk.
     */
    static void linkDrives(VmSpec spec) {
        Path dir = FirecrackerFiles.driveLinksDir(spec.vmDir().toAbsolutePath());
        List<FirecrackerApi.Drive> linked = drives(spec, DrivePaths.LINKED);
        try {
            Files.createDirectories(dir);
            for (int i = 0; i < linked.size(); i++) {
                Path link = dir.resolve(linked.get(i).drive_id());
                Files.deleteIfExists(link);
                Files.createSymbolicLink(link, spec.disks().get(i).path().toAbsolutePath());
            }
        } catch (IOException e) {
            throw new VmmException("cannot link the disks of VM " + spec.name() + " in " + dir + ": " + e, e);
        }
    }

    /** What Firecracker cannot do with {@code spec}, beyond {@link VmSpec#validate()}; empty when it can. */
    static List<String> problems(VmSpec spec) {
        List<String> problems = new ArrayList<>();
        kernelProblem(spec.kernel()).ifPresent(problems::add);
        if (spec.vcpus() > MAX_VCPUS) {
            problems.add("Firecracker runs at most " + MAX_VCPUS + " vCPUs, got " + spec.vcpus());
        }
        if (!INSTANCE_ID.matcher(spec.id()).matches()) {
            problems.add("VM id \"" + spec.id() + "\" is not a Firecracker instance id (1-64 letters, digits, '-')");
        }
        if (spec.guestCid() < 3 || spec.guestCid() > MAX_CID) {
            problems.add("vsock CID must be between 3 and " + MAX_CID + ", got " + spec.guestCid());
        }
        long roots = spec.disks().stream().filter(d -> d.role() == DiskSpec.Role.ROOT).count();
        if (roots != 1) {
            problems.add("Firecracker VMs need exactly one root disk, got " + roots);
        } else if (spec.disks().get(0).role() != DiskSpec.Role.ROOT) {
            problems.add("the root disk must be the first disk (the guest mounts /dev/vda as root)");
        }
        for (DiskSpec disk : spec.disks()) {
            if (disk.format() != DiskSpec.Format.RAW) {
                problems.add("disk " + disk.path() + " is " + disk.format().name().toLowerCase(Locale.ROOT)
                        + ": Firecracker attaches raw images only (a Firecracker VM's root disk is a device-mapper "
                        + "snapshot or a copy, not a qcow2 overlay)");
            }
        }
        return problems;
    }

    /** Firecracker boots an uncompressed ELF vmlinux on x86_64, never a bzImage. */
    static Optional<String> kernelProblem(Path kernel) {
        byte[] head;
        try (InputStream in = Files.newInputStream(kernel)) {
            head = in.readNBytes(0x206);
        } catch (IOException e) {
            return Optional.of("cannot read kernel " + kernel + ": " + e.getMessage());
        }
        KernelFormat format = kernelFormat(head);
        if (format == KernelFormat.ELF) {
            return Optional.empty();
        }
        if (format == KernelFormat.BZIMAGE) {
            return Optional.of("kernel " + kernel + " is a bzImage, which Firecracker cannot boot: it needs an "
                    + "uncompressed ELF vmlinux with virtio built in (e.g. a Firecracker CI kernel: banger "
                    + "kernel import NAME --kernel vmlinux-X), or use --vmm qemu");
        }
        return Optional.of("kernel " + kernel + " is not an ELF vmlinux, which is what Firecracker boots");
    }

    /** ELF by its magic, bzImage by "HdrS" at 0x202; null when neither. */
    static KernelFormat kernelFormat(byte[] head) {
        if (head.length >= 4 && head[0] == 0x7f && head[1] == 'E' && head[2] == 'L' && head[3] == 'F') {
            return KernelFormat.ELF;
        }
        if (head.length >= 0x206 && head[0x202] == 'H' && head[0x203] == 'd' && head[0x204] == 'r'
                && head[0x205] == 'S') {
            return KernelFormat.BZIMAGE;
        }
        return null;
    }

    /**
     * The argv {@link #launch} runs: {@code setsid} (when the host has it) so the VMM leads its own session and
     * outlives the daemon, then {@code firecracker --api-sock PATH --id ID}.
     */
    List<String> commandLine(Path binary, VmSpec spec) {
        List<String> argv = new ArrayList<>();
        Optional<Path> setsid = executables.find("setsid");
        if (setsid.isPresent()) {
            argv.add(setsid.get().toString());
        } else {
            log.warn("setsid not found: Firecracker for VM {} stays in the daemon's session", spec.name());
        }
        argv.add(binary.toString());
        argv.add("--api-sock");
        argv.add(spec.controlSocket().toAbsolutePath().toString());
        argv.add("--id");
        argv.add(spec.id());
        return argv;
    }

    /**
     * Starts the process. A long-running detached program does not fit {@link dev.banger.host.CommandRunner}
     * (which runs to completion and captures output), so it is started here, like the daemon itself is: no pipes,
     * stdin /dev/null, output into files. The JVM's child is never a process-group leader, so {@code setsid}
     * does not fork and the child's PID is Firecracker's.
     */
    private VmmHandle spawn(Path binary, VmSpec spec, Path api, Path vsock) {
        Path vmDir = spec.vmDir().toAbsolutePath();
        List<String> argv = commandLine(binary, spec);
        Process process;
        try {
            process = new ProcessBuilder(argv)
                    .directory(vmDir.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(spec.consoleLog().toAbsolutePath().toFile()))
                    .redirectError(ProcessBuilder.Redirect.appendTo(FirecrackerFiles.stderrFile(vmDir).toFile()))
                    .start();
        } catch (IOException e) {
            throw new VmmException("cannot start " + String.join(" ", argv) + ": " + e.getMessage(), e);
        }
        long pid = process.pid();
        Optional<VmmProcess.Stat> stat = VmmProcess.stat(pid);
        if (stat.isEmpty() || stat.get().exited()) {
            throw new VmmException("firecracker exited right after starting");
        }
        log.info("VM {}: firecracker running (pid {})", spec.name(), pid);
        return new VmmHandle(spec.id(), VmmKind.FIRECRACKER, pid, stat.get().startTicks(), api, vsock,
                spec.consoleLog().toAbsolutePath());
    }

    /** Polls {@code GET /} until it answers, the process exits, or the start timeout passes. */
    private void awaitApi(VmmHandle handle, VmSpec spec) {
        FirecrackerApi probe = new FirecrackerApi(handle.controlSocket(), PROBE_TIMEOUT);
        long deadline = System.nanoTime() + startTimeout.toNanos();
        VmmException last = null;
        while (true) {
            if (!VmmProcess.running(handle.pid(), handle.startTicks())) {
                throw new VmmException("firecracker exited during start-up");
            }
            if (Files.exists(handle.controlSocket())) {
                try {
                    probe.describeInstance();
                    return;
                } catch (VmmException e) {
                    last = e;
                }
            }
            if (System.nanoTime() - deadline >= 0) {
                throw new VmmException("firecracker did not answer on its API socket " + handle.controlSocket()
                        + " within " + startTimeout.toSeconds() + "s" + (last == null ? "" : ": " + last.getMessage()));
            }
            sleep(10);
        }
    }

    @Override
    public boolean isAlive(VmmHandle handle) {
        if (!VmmProcess.running(handle.pid(), handle.startTicks())) {
            return false;
        }
        try {
            new FirecrackerApi(handle.controlSocket(), PROBE_TIMEOUT).describeInstance();
            return true;
        } catch (VmmException e) {
            return false;
        }
    }

    /**
     * Sends {@code SendCtrlAltDel}, which reaches the guest through its i8042 keyboard (so the boot args never
     * carry {@code i8042.nopnp}, see {@link BootArgs}). banger-init turns Ctrl-Alt-Del into an orderly shutdown
     * ending in a reboot, on which Firecracker ({@code reboot=k}) exits. The agent's power-off ends in a reboot
     * too ({@code banger.halt=reboot}): x86 Firecracker has no ACPI power-off, and a halted guest would leave the
     * process running.
     */
    @Override
    public void requestPowerdown(VmmHandle handle) {
        new FirecrackerApi(handle.controlSocket(), PROBE_TIMEOUT).sendCtrlAltDel();
    }

    @Override
    public AgentTransport agentTransport(VmmHandle handle) {
        return new FirecrackerVsockTransport(handle.agentSocket(), AGENT_VSOCK_PORT, agentRetry);
    }

    private static void deleteFiles(Path... files) {
        for (Path f : files) {
            try {
                Files.deleteIfExists(f);
            } catch (IOException e) {
                throw new VmmException("cannot remove " + f + ": " + e.getMessage(), e);
            }
        }
    }

    private static void truncate(Path file) {
        try {
            Files.write(file, new byte[0]);
        } catch (IOException e) {
            throw new VmmException("cannot create " + file + ": " + e.getMessage(), e);
        }
    }

    /** "; firecracker said: LAST LINE (see PATH)" when the process wrote to stderr, else nothing. */
    private static String stderrHint(Path vmDir) {
        Path stderr = FirecrackerFiles.stderrFile(vmDir);
        try {
            String text = Files.readString(stderr, StandardCharsets.UTF_8).strip();
            if (text.isEmpty()) {
                return "";
            }
            int nl = text.lastIndexOf('\n');
            return "; firecracker said: " + (nl < 0 ? text : text.substring(nl + 1)) + " (see " + stderr + ")";
        } catch (IOException e) {
            return "";
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new VmmException("interrupted while waiting for firecracker");
        }
    }
}
