package dev.banger.vmm.qemu;

import dev.banger.guest.AgentTransport;
import dev.banger.guest.UnixSocketTransport;
import dev.banger.model.VmmKind;
import dev.banger.host.Command;
import dev.banger.host.CommandFailedException;
import dev.banger.host.CommandResult;
import dev.banger.host.CommandRunner;
import dev.banger.host.Executables;
import dev.banger.host.disk.DirectIo;
import dev.banger.vmm.PauseReports;
import dev.banger.vmm.Snapshot;
import dev.banger.vmm.VmSpec;
import dev.banger.vmm.VmmDriver;
import dev.banger.vmm.VmmException;
import dev.banger.vmm.VmmHandle;
import dev.banger.vmm.VmmProcess;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Runs VMs with {@code qemu-system-x86_64 -M microvm}. QEMU is started through the {@link CommandRunner} with
 * {@code -daemonize}: the launching process returns once the VM is initialised (sockets listening) or with QEMU's
 * error, and the VM itself runs in a new session with stdin/stdout on /dev/null and stderr in {@code qemu.log},
 * so the daemon's lifetime does not bound it. The real PID comes from QEMU's {@code -pidfile}.
 */
public final class QemuDriver implements VmmDriver {

    static final Duration LAUNCH_TIMEOUT = Duration.ofSeconds(30);
    static final Duration QMP_TIMEOUT = Duration.ofSeconds(3);
    /** A capture writes tens of KiB; a restore reads them. Minutes would mean something is wrong. */
    static final Duration MIGRATION_TIMEOUT = Duration.ofSeconds(60);
    private static final java.util.regex.Pattern SHELL_SAFE_PATH = java.util.regex.Pattern.compile("[A-Za-z0-9/._+-]+");

    private final CommandRunner runner;
    private final AcceleratorChooser accelerators;
    private final HostCpu cpu;

    public QemuDriver(CommandRunner runner, AcceleratorChooser accelerators, HostCpu cpu) {
        this.runner = runner;
        this.accelerators = accelerators;
        this.cpu = cpu;
    }

    /** A driver for this host: accelerator chosen from /dev/kvm and kvm_pvm unless {@code override} is set. */
    public static QemuDriver forHost(CommandRunner runner, Optional<Accelerator> override) {
        return new QemuDriver(runner, AcceleratorChooser.forHost(override), HostCpu.forHost());
    }

    @Override
    public VmmKind kind() {
        return VmmKind.QEMU;
    }

    @Override
    public void requireAvailable() {
        if (Executables.fromEnvironment().find(QemuCommandLine.BINARY).isEmpty()) {
            throw new VmmException("QEMU is not installed: no '" + QemuCommandLine.BINARY + "' program; install it "
                    + "(apt-get install qemu-system-x86 qemu-utils)");
        }
    }

    @Override
    public boolean canCapture() {
        return true;
    }

    @Override
    public Optional<Path> program() {
        return Executables.fromEnvironment().find(QemuCommandLine.BINARY);
    }

    @Override
    public String snapshotMode() {
        AcceleratorChoice choice = accelerators.choose();
        OptionalLong tsc = choice.accelerator() == Accelerator.TCG ? cpu.tscKhz() : OptionalLong.empty();
        return "accel=" + choice.accelerator().name().toLowerCase(java.util.Locale.ROOT)
                + (tsc.isPresent() ? " tsc_early_khz=" + tsc.getAsLong() : "")
                + (choice.accelerator() == Accelerator.TCG ? " " + QemuCommandLine.TCG_TSC : "");
    }

    /** The argv {@link #launch} runs for {@code spec}. */
    public List<String> commandLine(VmSpec spec) {
        return commandLine(spec, GuestRam.ANONYMOUS);
    }

    List<String> commandLine(VmSpec spec, GuestRam ram) {
        AcceleratorChoice choice = accelerators.choose();
        OptionalLong tsc = choice.accelerator() == Accelerator.TCG ? cpu.tscKhz() : OptionalLong.empty();
        return QemuCommandLine.build(spec, choice.accelerator(), tsc, ram, DirectIo::supported);
    }

    @Override
    public VmmHandle launch(VmSpec spec) {
        return launch(spec, GuestRam.ANONYMOUS);
    }

    @Override
    public VmmHandle launchForCapture(VmSpec spec, Snapshot snapshot) {
        return launch(spec, GuestRam.sharedFile(snapshot.memory()));
    }

    /**
     * QEMU's zero-copy capture: with {@code x-ignore-shared} the migration stream skips RAM that lives in a shared
     * file (it is already in {@code snapshot.memory()}), so {@code stop} + {@code migrate} writes only the device
     * state (tens of KiB) and flushes the disks.
     */
    @Override
    public void capture(VmmHandle handle, Snapshot snapshot) {
        String target = migrationPath(snapshot.deviceState());
        try (QmpClient qmp = QmpClient.connect(handle.controlSocket(), QMP_TIMEOUT)) {
            ignoreSharedRam(qmp);
            qmp.execute("stop", QMP_TIMEOUT);
            qmp.execute("migrate", Map.of("uri", "exec:cat > " + target), QMP_TIMEOUT);
            long end = System.nanoTime() + MIGRATION_TIMEOUT.toNanos();
            while (true) {
                Object info = qmp.execute("query-migrate", QMP_TIMEOUT);
                String status = info instanceof Map<?, ?> m && m.get("status") instanceof String st ? st : "";
                if (status.equals("completed")) {
                    return;
                }
                if (status.equals("failed") || status.equals("cancelled")) {
                    Object why = info instanceof Map<?, ?> m ? m.get("error-desc") : null;
                    throw new VmmException("QEMU could not save the state of " + handle.vmId() + ": "
                            + (why != null ? why : status));
                }
                if (System.nanoTime() > end) {
                    throw new VmmException("QEMU did not finish saving the state of " + handle.vmId() + " within "
                            + MIGRATION_TIMEOUT.toSeconds() + "s (status " + status + ")");
                }
                sleepMillis(5);
            }
        }
    }

    /**
     * Starts QEMU with the clone's devices, its RAM a private copy-on-write mapping of the template's memory file
     * and {@code -incoming defer}; loads the device state over QMP, waits for the load to finish, then
     * {@code cont}.
     */
    @Override
    public VmmHandle restore(VmSpec spec, Snapshot snapshot) {
        String source = migrationPath(snapshot.deviceState());
        if (!Files.isRegularFile(snapshot.memory()) || !Files.isRegularFile(snapshot.deviceState())) {
            throw new VmmException("the snapshot files " + snapshot.memory() + " and " + snapshot.deviceState()
                    + " must both exist");
        }
        VmmHandle handle = launch(spec, GuestRam.restoreFrom(snapshot.memory()));
        try (QmpClient qmp = QmpClient.connect(handle.controlSocket(), QMP_TIMEOUT)) {
            ignoreSharedRam(qmp);
            qmp.execute("migrate-incoming", Map.of("uri", "exec:cat " + source), QMP_TIMEOUT);
            long end = System.nanoTime() + MIGRATION_TIMEOUT.toNanos();
            String status;
            while ((status = qmp.queryStatus(QMP_TIMEOUT)).equals("inmigrate")) {
                if (System.nanoTime() > end) {
                    throw new VmmException("QEMU did not load the state of " + spec.name() + " within "
                            + MIGRATION_TIMEOUT.toSeconds() + "s");
                }
                sleepMillis(2);
            }
            if (!status.equals("paused") && !status.equals("postmigrate")) {
                Object info = qmp.execute("query-migrate", QMP_TIMEOUT);
                Object why = info instanceof Map<?, ?> m ? m.get("error-desc") : null;
                throw new VmmException("QEMU could not load the state of " + spec.name() + ": status " + status
                        + (why != null ? " (" + why + ")" : "") + "; see " + QemuFiles.logFile(spec.vmDir()));
            }
            qmp.execute("cont", QMP_TIMEOUT);
            return handle;
        } catch (RuntimeException e) {
            terminate(handle, Duration.ofSeconds(2));
            throw e instanceof VmmException ve ? ve : new VmmException("restoring " + spec.name() + " failed: " + e, e);
        }
    }

    private static void ignoreSharedRam(QmpClient qmp) {
        qmp.execute("migrate-set-capabilities", Map.of("capabilities", List.of(Map.of("capability",
                "x-ignore-shared", "state", true))), QMP_TIMEOUT);
    }

    /**
     * QEMU 7.2 has no {@code file:} migration URI; {@code exec:} hands its command to {@code /bin/sh -c}. The path
     * is banger's own (the state dir and a hex template key), and anything else is refused rather than quoted.
     */
    static String migrationPath(Path file) {
        String path = file.toAbsolutePath().toString();
        if (!SHELL_SAFE_PATH.matcher(path).matches()) {
            throw new VmmException("snapshot path " + path + " has characters QEMU's exec: migration cannot take "
                    + "(allowed: letters, digits, / . _ + -); move banger's state dir to a plainer path");
        }
        return path;
    }

    private static void sleepMillis(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new VmmException("interrupted", e);
        }
    }

    private VmmHandle launch(VmSpec spec, GuestRam ram) {
        spec.validate();
        Path pidFile = QemuFiles.pidFile(spec.vmDir());
        Path control = spec.controlSocket().toAbsolutePath();
        Path agent = spec.agentSocket().toAbsolutePath();
        // A socket file left by a QEMU that was killed makes the new QEMU fail to bind.
        deleteFiles(control, agent, pidFile);
        List<String> argv = commandLine(spec, ram);
        CommandResult result;
        try {
            result = runner.run(Command.of(argv).withTimeout(LAUNCH_TIMEOUT));
        } catch (CommandFailedException e) {
            deleteFiles(control, agent, pidFile);
            // With -daemonize and -D, QEMU's start-up errors land in its log file rather than on our pipe.
            String why = lastLine(e.stderr(), lastLine(readLog(spec.vmDir()), "exit code " + e.exitCode()));
            throw new VmmException("QEMU failed to start VM " + spec.name() + ": " + why, e);
        }
        appendLog(spec.vmDir(), result.stderrText());
        long pid = readPid(pidFile, spec.name());
        Optional<VmmProcess.Stat> stat = VmmProcess.stat(pid);
        if (stat.isEmpty() || stat.get().exited()) {
            deleteFiles(control, agent, pidFile);
            throw new VmmException("QEMU for VM " + spec.name() + " exited right after starting; see "
                    + spec.consoleLog() + " and " + QemuFiles.logFile(spec.vmDir()));
        }
        VmmHandle handle = new VmmHandle(spec.id(), VmmKind.QEMU, pid, stat.get().startTicks(), control, agent,
                spec.consoleLog().toAbsolutePath());
        try (QmpClient qmp = QmpClient.connect(control, QMP_TIMEOUT)) {
            qmp.queryStatus(QMP_TIMEOUT);
        } catch (VmmException e) {
            terminate(handle, Duration.ofSeconds(2));
            throw new VmmException("QEMU for VM " + spec.name() + " started but its QMP socket does not answer: "
                    + e.getMessage(), e);
        }
        return handle;
    }

    @Override
    public boolean isAlive(VmmHandle handle) {
        if (!VmmProcess.running(handle.pid(), handle.startTicks())) {
            return false;
        }
        try (QmpClient qmp = QmpClient.connect(handle.controlSocket(), QMP_TIMEOUT)) {
            qmp.queryStatus(QMP_TIMEOUT);
            return true;
        } catch (VmmException e) {
            return false;
        }
    }

    @Override
    public void requestPowerdown(VmmHandle handle) {
        try (QmpClient qmp = QmpClient.connect(handle.controlSocket(), QMP_TIMEOUT)) {
            qmp.systemPowerdown(QMP_TIMEOUT);
        }
    }

    @Override
    public Optional<PauseReports> pauseReports(VmmHandle handle) {
        return Optional.of(QmpEvents.open(handle));
    }

    @Override
    public void resume(VmmHandle handle) {
        QmpEvents.resume(handle);
    }

    @Override
    public AgentTransport agentTransport(VmmHandle handle) {
        return new UnixSocketTransport(handle.agentSocket());
    }

    private static long readPid(Path pidFile, String vm) {
        try {
            return Long.parseLong(Files.readString(pidFile, StandardCharsets.US_ASCII).strip());
        } catch (IOException | NumberFormatException e) {
            throw new VmmException("QEMU for VM " + vm + " started but its pid file " + pidFile
                    + " is unreadable: " + e.getMessage(), e);
        }
    }

    private static String readLog(Path vmDir) {
        try {
            return Files.readString(QemuFiles.logFile(vmDir), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    private static void appendLog(Path vmDir, String text) {
        if (text.isBlank()) {
            return;
        }
        try {
            Files.writeString(QemuFiles.logFile(vmDir), text, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        } catch (IOException ignored) {
            // Warnings only; the VM is running.
        }
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

    private static String lastLine(String text, String fallback) {
        String t = text.strip();
        if (t.isEmpty()) {
            return fallback;
        }
        int nl = t.lastIndexOf('\n');
        return nl < 0 ? t : t.substring(nl + 1);
    }
}
