package dev.banger.vm;

import dev.banger.api.BangerException;
import dev.banger.api.Event;
import dev.banger.config.BangerPaths;
import dev.banger.dns.VmDns;
import dev.banger.guest.AgentClient;
import dev.banger.guest.AgentException;
import dev.banger.guest.AgentTransport;
import dev.banger.host.disk.RootDisk;
import dev.banger.host.network.HostNetwork;
import dev.banger.kernel.KernelException;
import dev.banger.kernel.KernelService;
import dev.banger.model.Image;
import dev.banger.model.Kernel;
import dev.banger.model.Vm;
import dev.banger.model.VmState;
import dev.banger.rpc.Call;
import dev.banger.store.VmStore;
import dev.banger.vmm.VmmDriver;
import dev.banger.vmm.VmmException;
import dev.banger.vmm.VmmHandle;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.StringJoiner;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Boots a VM as an ordered list of named steps, in the manner of firecracker-go-sdk's handler lists: preflight,
 * runtime dir, root disk, network, launch (a {@link LaunchStrategy}), wait for the agent, personalise, publish.
 * A step that acquires a host resource writes it into the VM's handles (cache and handles.json) before the next
 * step runs, so a failure or a crash at any point leaves exactly what {@link VmTeardown} must release; a failed
 * boot releases through it and leaves the VM in {@code error} with the cause.
 */
final class VmBoot {

    private static final Logger log = LoggerFactory.getLogger(VmBoot.class);

    /** Free space a boot wants in the state dir: the overlay's first writes, logs, a fresh initrd. */
    static final long MIN_FREE_BYTES = 256L << 20;
    /** How long one connection attempt to a booting guest's agent waits before liveness is checked again. */
    private static final Duration AGENT_POLL = Duration.ofSeconds(2);
    /** How much of a failed guest's console goes into the daemon's log. */
    private static final int CONSOLE_LINES_LOGGED = 30;

    /** One named step of a boot. */
    private record Step(String name, Action action) {
    }

    private interface Action {
        void run(Boot boot) throws IOException;
    }

    /**
     * What one boot has resolved and acquired so far; each step reads what earlier steps left and adds its own.
     */
    static final class Boot {
        private final Vm vm;
        private final Call call;
        private final Kernel kernel;
        private final Image image;
        private final VmmDriver driver;
        private final LaunchStrategy launcher;
        private RootDisk rootDisk;
        private String tap;
        private VmmHandle vmm;
        private AgentClient agent;
        private long launchStarted;
        private Vm published;

        Boot(Vm vm, Call call, Kernel kernel, Image image, VmmDriver driver, LaunchStrategy launcher) {
            this.vm = vm;
            this.call = call;
            this.kernel = kernel;
            this.image = image;
            this.driver = driver;
            this.launcher = launcher;
        }

        Vm vm() {
            return vm;
        }

        Kernel kernel() {
            return kernel;
        }

        Image image() {
            return image;
        }

        VmmDriver driver() {
            return driver;
        }

        /** The file the VM's VMM boots: the kernel, or for Firecracker the vmlinux unpacked from its bzImage. */
        Path kernelFile() {
            return kernel.artifacts().bootImage(vm.vmm()).orElseThrow(() -> BangerException.failedPrecondition(
                    "kernel '" + kernel.name() + "' has no ELF vmlinux for " + vm.vmm().wireName()
                            + "; import the kernel again (banger kernel delete, then banger kernel pull or import)"));
        }

        /** The attached root disk; set by the root-disk step. */
        RootDisk rootDisk() {
            return rootDisk;
        }

        /** The VM's tap on the bridge; set by the network step. */
        String tap() {
            return tap;
        }
    }

    private final BangerPaths paths;
    private final VmStore vms;
    private final KernelService kernels;
    private final RunningVms running;
    private final VmDisks disks;
    private final HostNetwork network;
    private final VmDns dns;
    private final LaunchStrategy coldBoot;
    private final VmTeardown teardown;
    private final Duration bootTimeout;
    private final Clock clock;
    private final List<Step> steps = List.of(
            new Step("preflight", this::preflight),
            new Step("runtime-dir", this::prepareRuntimeDir),
            new Step("root-disk", this::attachRootDisk),
            new Step("network", this::createTap),
            new Step("launch-vmm", this::launch),
            new Step("wait-agent", this::awaitAgent),
            new Step("personalise", this::personalise),
            new Step("publish", this::publish));

    VmBoot(BangerPaths paths, VmStore vms, KernelService kernels, RunningVms running, VmDisks disks,
           HostNetwork network, VmDns dns, LaunchStrategy coldBoot, VmTeardown teardown, Duration bootTimeout,
           Clock clock) {
        this.paths = paths;
        this.vms = vms;
        this.kernels = kernels;
        this.running = running;
        this.disks = disks;
        this.network = network;
        this.dns = dns;
        this.coldBoot = coldBoot;
        this.teardown = teardown;
        this.bootTimeout = bootTimeout;
        this.clock = clock;
    }

    /**
     * Boots {@code vm}: state {@code starting}, the steps in order, state {@code running}. The caller holds the
     * VM's lock.
     *
     * @throws BangerException why the boot failed; the VM is then in {@code error}, everything released
     */
    Vm boot(Vm vm, Call call) {
        return boot(vm, call, coldBoot);
    }

    /** As {@link #boot(Vm, Call)}, starting the VMM the way {@code launcher} does (a cold boot, or a restore). */
    Vm boot(Vm vm, Call call, LaunchStrategy launcher) {
        Vm starting = update(vm, VmState.STARTING, null);
        Boot boot = null;
        String step = "resolve";
        try {
            boot = new Boot(starting, call, kernels.resolve(vm.kernelName()), running.imageOf(vm),
                    running.driver(vm.vmm()), launcher);
            StringJoiner timings = new StringJoiner(", ");
            long started = System.nanoTime();
            for (Step s : steps) {
                step = s.name();
                long t0 = System.nanoTime();
                s.action().run(boot);
                timings.add(s.name() + " " + millisSince(t0));
            }
            log.info("VM {} started in {} ms ({}; ms per step: {})", vm.name(), millisSince(started),
                    launcher.describe(), timings);
            return boot.published;
        } catch (BangerException | KernelException | VmmException | IllegalStateException | IOException e) {
            String message = e.getMessage();
            log.warn("VM {} failed to start (step {}): {}", vm.name(), step, message);
            if (boot != null && boot.vmm != null) {
                logConsole(vm);
            }
            teardown.release(vm);
            update(starting, VmState.ERROR, message);
            if (e instanceof BangerException be) {
                throw be;
            }
            throw BangerException.unavailable("VM '" + vm.name() + "' failed to start: " + message);
        } catch (RuntimeException e) {
            teardown.release(vm);
            update(starting, VmState.ERROR, "internal error: " + e);
            throw e;
        }
    }

    // ---- the steps ----

    /** What a boot needs from the host, checked up front so each missing piece gets its own clear message. */
    private void preflight(Boot boot) {
        Path kernelFile = boot.kernelFile();
        if (!Files.isRegularFile(kernelFile)) {
            throw BangerException.failedPrecondition("the kernel file " + kernelFile + " of kernel '"
                    + boot.kernel.name() + "' is missing; import the kernel again (banger kernel delete "
                    + boot.kernel.name() + ", then banger kernel pull or import)");
        }
        if (!Files.isRegularFile(boot.image.rootfsPath())) {
            throw BangerException.failedPrecondition("the root filesystem " + boot.image.rootfsPath() + " of image '"
                    + boot.image.name() + "' is missing; pull or register the image again");
        }
        if (!Files.exists(Path.of("/dev/net/tun"))) {
            throw BangerException.failedPrecondition("/dev/net/tun is missing, so VMs get no network device; load "
                    + "the tun module (modprobe tun)");
        }
        Path vmDir = boot.vm.vmDir();
        try {
            long free = Files.getFileStore(vmDir).getUsableSpace();
            if (free < MIN_FREE_BYTES) {
                throw BangerException.failedPrecondition("only " + (free >> 20) + " MiB free for " + vmDir
                        + "; a boot needs at least " + (MIN_FREE_BYTES >> 20) + " MiB (free space or delete VMs)");
            }
        } catch (IOException e) {
            throw BangerException.failedPrecondition("cannot read the free space of " + vmDir + ": "
                    + e.getMessage());
        }
    }

    /**
     * The VM's private runtime dir (sockets), a fresh console log, and empty handles: from here on every host
     * resource goes into the handles as soon as it is held.
     */
    private void prepareRuntimeDir(Boot boot) throws IOException {
        boot.launchStarted = System.nanoTime();
        boot.call.emit(Event.Progress.started("launch-vmm", "starting " + boot.vm.vmm().wireName()));
        Files.createDirectories(paths.vmRuntimeDir(boot.vm.id()), PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rwx------")));
        Files.deleteIfExists(boot.vm.logPath());
        running.handles().put(boot.vm.id(), VmHandles.NONE);
    }

    private void attachRootDisk(Boot boot) throws IOException {
        boot.launcher.prepareRootDisk(boot);
        boot.rootDisk = disks.attachRootDisk(boot.vm, boot.image.rootfsPath(), acquired ->
                record(boot.vm, h -> h.withRootDisk(acquired)));
    }

    private void createTap(Boot boot) {
        String tap = HostNetwork.tapName(boot.vm.id());
        network.createTap(tap);
        record(boot.vm, h -> h.withTap(tap));
        boot.tap = tap;
    }

    private void launch(Boot boot) {
        VmmHandle vmm = boot.launcher.launch(boot);
        record(boot.vm, h -> h.withVmm(vmm));
        boot.vmm = vmm;
        boot.call.emit(Event.Progress.done("launch-vmm", boot.vm.vmm().wireName() + " running (pid " + vmm.pid()
                + ", " + boot.launcher.describe() + ")", millisSince(boot.launchStarted)));
    }

    /** Waits for the agent, giving up early when the VMM exits (a kernel that cannot boot). */
    private void awaitAgent(Boot boot) {
        long t0 = System.nanoTime();
        boot.call.emit(Event.Progress.started("wait-agent", "waiting for the guest agent"));
        Vm vm = boot.vm;
        long end = System.nanoTime() + bootTimeout.toNanos();
        AgentTransport transport = boot.driver.agentTransport(boot.vmm);
        while (boot.agent == null) {
            long slice = Math.min(AGENT_POLL.toNanos(), end - System.nanoTime());
            try {
                boot.agent = AgentClient.awaitReady(transport, Duration.ofNanos(Math.max(slice, 1)), vm.logPath());
            } catch (AgentException e) {
                if (!boot.driver.isRunning(boot.vmm)) {
                    throw BangerException.unavailable("VM '" + vm.name() + "' exited during boot before its guest "
                            + "agent answered" + consoleHint(vm));
                }
                if (System.nanoTime() >= end) {
                    throw BangerException.unavailable("guest agent of VM '" + vm.name() + "' did not answer within "
                            + bootTimeout.toSeconds() + "s" + consoleHint(vm));
                }
            }
        }
        boot.call.emit(Event.Progress.done("wait-agent", "guest ready", millisSince(t0)));
    }

    /**
     * What makes this guest itself once its agent answers, before anything else runs in it (and before the agent
     * connection is handed to the rest of the daemon). A cold-booted guest took its identity (hostname, address,
     * work disk, sshd) from the kernel command line; a guest restored from a template gets it here.
     */
    private void personalise(Boot boot) throws IOException {
        long t0 = System.nanoTime();
        String done;
        try {
            done = boot.launcher.personalise(boot, boot.agent);
        } catch (AgentException e) {
            throw BangerException.unavailable("VM '" + boot.vm.name() + "' could not take its identity: "
                    + e.getMessage());
        }
        if (!done.isEmpty()) {
            boot.call.emit(Event.Progress.done("personalise", done, millisSince(t0)));
        }
    }

    private void publish(Boot boot) {
        running.guests().adopt(boot.vm, boot.agent);
        long readyMillis = millisSince(boot.launchStarted);
        record(boot.vm, h -> h.withStart(boot.launcher.describe() + " (" + String.format(java.util.Locale.ROOT,
                "%.2f", readyMillis / 1000.0) + " s to ready)"));
        log.info("VM {} running (pid {}), {} in {} ms", boot.vm.name(), boot.vmm.pid(), boot.launcher.describe(),
                readyMillis);
        boot.call.emit(Event.Progress.done("ready", "VM " + boot.vm.name() + " ready: " + boot.launcher.describe()
                .replace("restoring", "restored").replace("booting", "booted"), readyMillis));
        boot.published = update(boot.vm, VmState.RUNNING, null);
        dns.running(boot.published);
    }

    // ---- helpers ----

    /** Where a failed boot's console is, and its last lines (the log may go with the VM before anyone reads it). */
    private static String consoleHint(Vm vm) {
        return "; see the serial console log " + vm.logPath() + ConsoleTail.quoted(vm.logPath());
    }

    /**
     * The end of the console of a guest that was launched and then failed its boot, into the daemon's log: the log
     * file goes with the VM (with {@code vm run --rm}, right away), and why a guest hung is usually in it.
     */
    private static void logConsole(Vm vm) {
        List<String> lines = ConsoleTail.lastLines(vm.logPath(), CONSOLE_LINES_LOGGED);
        log.warn("VM {}: the last {} lines of its serial console:{}", vm.name(), lines.size(),
                lines.stream().map(l -> "\n  | " + l).collect(Collectors.joining()));
    }

    /** Updates the VM's handles (cache and handles.json) as a boot acquires resources. */
    private void record(Vm vm, UnaryOperator<VmHandles> change) {
        try {
            running.handles().put(vm.id(), change.apply(running.handles().get(vm.id()).orElse(VmHandles.NONE)));
        } catch (IOException e) {
            throw BangerException.failedPrecondition("cannot write the handles of VM '" + vm.name() + "': "
                    + e.getMessage());
        }
    }

    private Vm update(Vm vm, VmState state, String lastError) {
        Vm next = vm.withState(state, lastError, clock.instant());
        vms.update(next);
        return next;
    }

    static long millisSince(long nanos) {
        return (System.nanoTime() - nanos) / 1_000_000;
    }
}
