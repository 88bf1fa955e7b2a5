package dev.banger.vm;

import dev.banger.api.BangerException;
import dev.banger.api.Event;
import dev.banger.api.TemplateList;
import dev.banger.api.VmCreateRequest;
import dev.banger.api.VmDeleteRequest;
import dev.banger.api.ImageView;
import dev.banger.api.VmDeleteResult;
import dev.banger.api.VmSetRequest;
import dev.banger.api.VmList;
import dev.banger.api.VmStopRequest;
import dev.banger.api.VmView;
import dev.banger.config.BangerPaths;
import dev.banger.config.DaemonConfig;
import dev.banger.dns.VmDns;
import dev.banger.guest.ShutdownAction;
import dev.banger.host.network.AddressAllocator;
import dev.banger.host.network.HostNetwork;
import dev.banger.image.ImageService;
import dev.banger.kernel.InitrdAssembler;
import dev.banger.kernel.KernelService;
import dev.banger.model.Image;
import dev.banger.model.Kernel;
import dev.banger.model.KernelFormat;
import dev.banger.model.Names;
import dev.banger.model.Sizes;
import dev.banger.model.Vm;
import dev.banger.model.VmState;
import dev.banger.model.VmmKind;
import dev.banger.rpc.Call;
import dev.banger.ssh.GuestSsh;
import dev.banger.store.VmStore;
import dev.banger.template.Template;
import dev.banger.template.TemplateStore;
import dev.banger.vmm.DiskSpec;
import dev.banger.vmm.GuestPause;
import dev.banger.vmm.VmmDriver;
import dev.banger.vmm.VmmException;
import dev.banger.vmm.VmmChooser;
import dev.banger.vmm.VmmHandle;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * VM lifecycle: create (record, provision disks, boot), start, stop, restart, delete, set, promote, list, show,
 * and reconcile at daemon start. Every operation here holds the VM's lock (see {@link VmLocks}); a boot runs
 * through {@link VmBoot}'s steps and every release of host resources through {@link VmTeardown}. Liveness and the
 * agent of a running VM are {@link RunningVms}'.
 */
public final class VmLifecycle {

    private static final Logger log = LoggerFactory.getLogger(VmLifecycle.class);

    /** How long a guest gets to power off after the agent's shutdown, and after the ACPI button. */
    static final Duration GUEST_POWEROFF_TIMEOUT = Duration.ofSeconds(15);
    static final Duration ACPI_POWEROFF_TIMEOUT = Duration.ofSeconds(5);

    private final BangerPaths paths;
    private final DaemonConfig config;
    private final VmStore vms;
    private final ImageService images;
    private final KernelService kernels;
    private final RunningVms running;
    private final VmDisks disks;
    private final VmBoot booter;
    private final VmTeardown teardown;
    private final VmProvisioner provisioner;
    private final Clock clock;
    private final VmLocks locks = new VmLocks();
    private final CreateOperations operations;
    private final VmDns dns;
    private final VmmWatcher watcher;
    private final Templates templates;

    public VmLifecycle(BangerPaths paths, DaemonConfig config, VmStore vms, ImageService images, KernelService kernels,
                     RunningVms running, HostNetwork network, dev.banger.host.CommandRunner runner,
                     Path initBinary, Clock clock, GuestSsh ssh, VmDns dns) {
        this.paths = paths;
        this.config = config;
        this.vms = vms;
        this.images = images;
        this.kernels = kernels;
        this.running = running;
        this.disks = new VmDisks(runner, running.handles());
        this.teardown = new VmTeardown(paths, running, disks, network, dns);
        this.booter = new VmBoot(paths, vms, kernels, running, disks, network, dns,
                new ColdBoot(new InitrdAssembler(), initBinary, network), teardown, config.bootTimeout(), clock);
        this.provisioner = new VmProvisioner(paths, vms, disks, new AddressAllocator(network.config()), ssh, clock);
        this.clock = clock;
        this.operations = new CreateOperations(clock);
        this.dns = dns;
        this.watcher = new VmmWatcher(running.handles(), this::vmmExited);
        this.templates = new Templates(paths, new TemplateStore(paths.templatesDir(), runner), network, runner,
                initBinary, config.bootTimeout(), clock);
    }

    // ---- create / start / stop / delete ----

    /**
     * {@code vm create}: registered as an operation whose id is the first event, so another client can follow it
     * with {@code vm create --attach OP}; the create finishes even when its client goes away.
     */
    public VmView create(VmCreateRequest request, Call call) {
        String name = request.name() != null ? request.name() : generateName();
        CreateOperations.Operation op = operations.begin(name);
        try {
            VmCreateRequest named = new VmCreateRequest(name, request.image(), request.kernel(), request.cpus(),
                    request.memoryMib(), request.diskMib(), request.vmm(), request.noStart(), request.cold());
            VmView view = view(create(named, null, 0, op.recording(call)));
            op.succeeded(view);
            return view;
        } catch (BangerException e) {
            op.failed(e);
            throw e;
        } catch (RuntimeException e) {
            op.failed(new BangerException(dev.banger.api.ErrorCode.INTERNAL, "create failed: " + e));
            throw e;
        }
    }

    /** Follows a create operation: what happened so far, then the rest, then its outcome. */
    public VmView attach(String operationId, Call call) throws InterruptedException {
        return operations.find(operationId).orElseThrow(() -> BangerException.notFound("no such operation: "
                + operationId + " (finished operations are kept for " + CreateOperations.KEEP_FINISHED.toMinutes()
                + " minutes)")).attach(call);
    }

    /** A free memorable name ("brisk-otter") for a VM created without one. */
    String generateName() {
        return NameGenerator.generate(n -> vms.findByName(n).isPresent());
    }

    /**
     * Creates a VM and boots it unless {@code noStart}.
     *
     * @param workDiskSeed lays files into the work disk's root (the guest's /root) before the disk is built, or
     *     null for an empty work disk
     * @param seedMib what the seed needs on the work disk: without {@code --disk} the disk is made big enough for
     *     it and {@link VmResources#WORK_DISK_HEADROOM_MIB} more; a smaller {@code --disk} is refused before
     *     anything is created
     */
    Vm create(VmCreateRequest request, Consumer<Path> workDiskSeed, long seedMib, Call call) {
        String name = Names.requireValid("VM", request.name() != null ? request.name() : generateName());
        int cpus = request.cpus() != null ? request.cpus() : config.cpus();
        int memory = request.memoryMib() != null ? request.memoryMib() : config.memoryMib();
        long disk = request.diskMib() != null ? request.diskMib()
                : Math.max(config.diskMib(), seedMib == 0 ? 0 : seedMib + VmResources.WORK_DISK_HEADROOM_MIB);
        VmResources.requireCpusAndMemory(cpus, memory);
        VmResources.requireDisk(disk);
        if (disk < seedMib) {
            throw BangerException.invalidArgument("the workspace needs " + Sizes.formatMib(seedMib) + "; --disk "
                    + Sizes.formatMib(disk) + " is too small (leave --disk out to size the disk to fit)");
        }
        VmmKind vmm = VmmChooser.forHost().choose(request.vmm(), config.vmmOverride(),
                () -> kernels.resolve(request.kernel(), call).artifacts().bootImage(VmmKind.FIRECRACKER).isPresent()
                        ? KernelFormat.ELF : KernelFormat.BZIMAGE).kind();
        try {
            running.driver(vmm).requireAvailable();
        } catch (VmmException e) {
            throw BangerException.failedPrecondition(e.getMessage());
        }
        Image image = images.resolve(request.image(), call);
        Kernel kernel = kernels.resolve(request.kernel(), call);
        if (kernel.artifacts().bootImage(vmm).isEmpty()) {
            throw BangerException.invalidArgument("kernel '" + kernel.name() + "' is a bzImage banger could not "
                    + "unpack into the ELF vmlinux Firecracker boots (see docs/kernels.md); pick another with "
                    + "--kernel, or use --vmm qemu");
        }
        // A VM that boots now restores from the template of its inputs when there is one (not with --cold), and its
        // root disk is then of the template's kind, copied from the template's as it boots.
        Optional<Templates.Request> wanted = request.noStart() || request.cold() ? Optional.empty()
                : Optional.of(new Templates.Request(running.driver(vmm), image, kernel,
                        kernel.artifacts().bootImage(vmm).orElseThrow(), cpus, memory, disk));
        // Only digests already known: a new image is hashed in the background, after this VM boots (buildLater).
        Optional<Template> template = wanted.flatMap(templates::knownKey).flatMap(templates::find);
        try (VmLocks.Guard ignored = locks.lock(name)) {
            Vm vm = provisioner.record(name, vmm, image, kernel, cpus, memory, disk, template);
            call.emit(Event.Progress.started("create", "creating VM " + name + " (" + address(vm) + ")"));
            provisioner.provision(vm, image, template.isEmpty(), workDiskSeed, call);
            log.info("created VM {} ({}) from image {} and kernel {}", name, vm.id(), image.name(), kernel.name());
            if (request.noStart()) {
                return vm;
            }
            return bootNew(vm, image, wanted, template, call);
        }
    }

    /**
     * The first boot of a new VM: restored from {@code template} (of its image, kernel and sizes) when there is one,
     * else booted (and the template for {@code wanted} built in the background). A template that fails to restore
     * is removed and the VM boots instead: a clone is never handed out half made.
     */
    private Vm bootNew(Vm vm, Image image, Optional<Templates.Request> wanted, Optional<Template> template,
                       Call call) {
        if (template.isPresent()) {
            try {
                return booter.boot(vm, call, templates.restoreFrom(template.get()));
            } catch (BangerException e) {
                templates.discard(template.get(), "restoring VM " + vm.name() + " failed: " + e.getMessage());
                call.emit(Event.Progress.started("boot", "restoring from the template failed (" + e.getMessage()
                        + "); booting instead"));
                disks.replaceRootDisk(vm, image.rootfsPath());
                vm = vms.findById(vm.id()).orElse(vm);
            }
        } else if (wanted.filter(templates::canCapture).isPresent()) {
            call.emit(Event.Progress.started("boot", "booting (no template yet; building one after this boot)"));
        }
        Vm booted = booter.boot(vm, call);
        wanted.ifPresent(templates::buildLater);
        return booted;
    }

    public VmView start(String name, Call call) {
        try (VmLocks.Guard ignored = locks.lock(name)) {
            Vm vm = running.find(name);
            if (running.isAlive(vm)) {
                return view(vm);
            }
            if (!disks.exist(vm)) {
                throw BangerException.failedPrecondition("the disks of VM '" + name + "' are missing from "
                        + vm.vmDir() + "; delete the VM and create it again");
            }
            return view(booter.boot(vm, call));
        }
    }

    public VmView stop(VmStopRequest request, Call call) {
        try (VmLocks.Guard ignored = locks.lock(request.name())) {
            return view(stopLocked(running.find(request.name()), request.force(), call));
        }
    }

    public VmView restart(VmStopRequest request, Call call) {
        try (VmLocks.Guard ignored = locks.lock(request.name())) {
            Vm stopped = stopLocked(running.find(request.name()), request.force(), call);
            return view(booter.boot(stopped, call));
        }
    }

    public VmDeleteResult delete(VmDeleteRequest request) {
        if (request.names() == null || request.names().isEmpty()) {
            throw BangerException.invalidArgument("name at least one VM to delete");
        }
        List<String> missing = request.names().stream().filter(n -> vms.findByName(n).isEmpty()).toList();
        List<String> deleted = new ArrayList<>();
        List<String> refused = new ArrayList<>();
        for (String name : request.names()) {
            try (VmLocks.Guard ignored = locks.lock(name)) {
                Vm vm = vms.findByName(name).orElse(null);
                if (vm == null) {
                    continue; // Deleted concurrently: the caller's intent holds.
                }
                if (running.isAlive(vm)) {
                    if (!request.force()) {
                        refused.add(name);
                        continue;
                    }
                    stopLocked(vm, true, Call.detached());
                }
                teardown.release(vm);
                provisioner.remove(vm);
                deleted.add(name);
                log.info("deleted VM {} ({})", name, vm.id());
            }
        }
        // What can go goes, as the user asked; running VMs (without --force) and names that matched nothing make the
        // command fail, each named.
        String done = deleted.isEmpty() ? "" : " (deleted " + String.join(", ", deleted) + ")";
        if (!refused.isEmpty()) {
            throw BangerException.conflict((refused.size() == 1
                    ? "VM '" + refused.get(0) + "' is running; stop it first or use --force"
                    : "VMs " + String.join(", ", refused) + " are running; stop them first or use --force")
                    + (missing.isEmpty() ? "" : "; no such VM: " + String.join(", ", missing)) + done);
        }
        if (!missing.isEmpty()) {
            throw BangerException.notFound("no such VM: " + String.join(", ", missing) + done
                    + "; see: banger vm list");
        }
        return new VmDeleteResult(deleted);
    }

    /**
     * {@code image promote}: captures a stopped VM's root disk (overlay and base merged) as a new image. Holds the
     * VM's lock so it cannot start while its disk is read.
     */
    public ImageView promote(String vmName, String imageName) {
        try (VmLocks.Guard ignored = locks.lock(vmName)) {
            Vm vm = running.find(vmName);
            if (running.isAlive(vm)) {
                throw BangerException.conflict("VM '" + vmName + "' is running; stop it before promoting its disk");
            }
            if (!Files.isRegularFile(vm.rootDiskPath())) {
                throw BangerException.failedPrecondition("VM '" + vmName + "' has no root disk at "
                        + vm.rootDiskPath());
            }
            Image base = images.get(vm.imageName());
            // Whatever the copy-on-write strategy (qcow2 overlay, device-mapper snapshot, copy), attach the disk
            // as a boot would (recorded in the handles) and convert what the guest sees; then release it.
            return disks.withRootDisk(vm, base.rootfsPath(), root -> images.publishConverted(imageName,
                    root.attachPath(), root.format() == DiskSpec.Format.QCOW2 ? "qcow2" : "raw", "promote:" + vmName,
                    base));
        }
    }

    public VmView set(VmSetRequest request) {
        try (VmLocks.Guard ignored = locks.lock(request.name())) {
            Vm vm = running.find(request.name());
            int cpus = request.cpus() != null ? request.cpus() : vm.cpus();
            int memory = request.memoryMib() != null ? request.memoryMib() : vm.memoryMib();
            long disk = request.diskMib() != null ? request.diskMib() : vm.diskMib();
            if (cpus == vm.cpus() && memory == vm.memoryMib() && disk == vm.diskMib()) {
                return view(vm);
            }
            VmResources.requireCpusAndMemory(cpus, memory);
            if (disk < vm.diskMib()) {
                throw BangerException.invalidArgument("--disk " + disk + "M is smaller than the work disk ("
                        + vm.diskMib() + "M): disks can only grow");
            }
            if (running.isAlive(vm)) {
                throw BangerException.conflict("VM '" + vm.name() + "' is running; stop it first (banger vm stop "
                        + vm.name() + ")");
            }
            if (disk > vm.diskMib()) {
                for (String tool : List.of("e2fsck", "resize2fs")) {
                    if (!dev.banger.host.Executables.fromEnvironment().has(tool)) {
                        throw BangerException.failedPrecondition("growing a disk needs " + tool
                                + "; install e2fsprogs");
                    }
                }
                disks.growWorkDisk(vm, disk);
            }
            Vm changed = vm.withResources(cpus, memory, disk, clock.instant());
            vms.update(changed);
            log.info("VM {} set to {} cpus, {} MiB memory, {} MiB disk", vm.name(), cpus, memory, disk);
            return view(changed);
        }
    }

    /**
     * {@code vm resume}: resumes a guest its VMM paused (a full host disk, an I/O error, a pause through the
     * monitor). A guest that is not paused is left as it is.
     */
    public VmView resume(String name) {
        try (VmLocks.Guard ignored = locks.lock(name)) {
            Vm vm = running.find(name);
            if (!running.isAlive(vm)) {
                throw BangerException.conflict("VM '" + name + "' is not running (state " + vm.state().wireName()
                        + "); start it with: banger vm start " + name);
            }
            if (running.pauseOf(vm).isEmpty()) {
                return view(vm);
            }
            try {
                running.pauses().resume(vm, running.vmmOf(vm).orElseThrow()).ifPresent(still ->
                        log.warn("VM {} paused again right after resuming: {}", name, still.detail()));
            } catch (VmmException e) {
                throw BangerException.unavailable("cannot resume VM '" + name + "': " + e.getMessage());
            }
            return view(vm);
        }
    }

    public VmList list() {
        return new VmList(vms.list().stream().map(this::view).toList());
    }

    public VmView show(String name) {
        return view(running.find(name));
    }

    // ---- VMMs that exit by themselves ----

    /**
     * Watches every VMM this daemon holds handles for (booted or adopted) until {@link #close()}: one that exits
     * without being asked is noticed within half a second, its resources released, and its VM recorded as
     * {@code stopped} when the guest powered itself off, else {@code error} with the cause.
     */
    public void watchVmms() {
        watchVmms(VmmWatcher.DEFAULT_PERIOD);
    }

    void watchVmms(Duration period) {
        watcher.start(period);
        running.pauses().start(period);
    }

    /** Stops watching VMMs and building templates (daemon shutdown). The VMs go on running. */
    public void close() {
        watcher.close();
        running.pauses().close();
        templates.close();
    }

    /** {@code template list}. */
    public TemplateList templateList() {
        return templates.list(images, kernels, running);
    }

    /** {@code template prune}. */
    public TemplateList templatePrune(boolean all) {
        return templates.prune(all, images, kernels, running);
    }

    /** The templates, for tests. */
    Templates templates() {
        return templates;
    }

    /** The watcher saw {@code seen} gone: unless a lifecycle operation already dealt with it, record why. */
    void vmmExited(String vmId, VmmHandle seen) {
        Optional<Vm> found = vms.findById(vmId);
        if (found.isEmpty()) {
            return;
        }
        try (VmLocks.Guard ignored = locks.lock(found.get().name())) {
            Vm vm = vms.findById(vmId).orElse(null);
            if (vm == null || !running.vmmOf(vm).map(seen::equals).orElse(false)
                    || running.driver(vm.vmm()).isRunning(seen)) {
                return; // Stopped, deleted or restarted meanwhile.
            }
            List<String> console = ConsoleTail.lastLines(vm.logPath(), ConsoleTail.QUOTED_LINES);
            Optional<String> said = running.pauses().shutdownOf(vmId, seen); // QEMU's SHUTDOWN event, if heard
            boolean poweredOff = ConsoleTail.showsGuestShutdown(console)
                    || said.map(r -> r.startsWith("guest-shutdown")).orElse(false);
            String why = "its VMM (" + vm.vmm().wireName() + ", pid " + seen.pid() + ") exited "
                    + (poweredOff ? "after the guest shut down" : "unexpectedly")
                    + said.map(r -> " (it said: " + r + ")").orElse("")
                    + ConsoleTail.quoted(console);
            teardown.release(vm);
            update(vm, poweredOff ? VmState.STOPPED : VmState.ERROR, why);
            log.warn("VM {}: {}", vm.name(), why);
        }
    }

    // ---- reconcile ----

    /**
     * At daemon start: every VM recorded as running (or caught mid-transition) is either adopted, when its
     * handles name a live VMM, or torn down and demoted to stopped with the reason in last_error; every other VM
     * gets back whatever a killed daemon left of its runtime ({@link #reconcileAtRest}).
     */
    public void reconcile() {
        templates.reconcile();
        for (Vm vm : vms.list()) {
            try (VmLocks.Guard ignored = locks.lock(vm.name())) {
                if (vm.state() == VmState.RUNNING || vm.state() == VmState.STARTING
                        || vm.state() == VmState.STOPPING) {
                    reconcileLive(vm);
                } else {
                    reconcileAtRest(vm);
                }
            }
        }
    }

    private void reconcileLive(Vm vm) {
        Optional<VmHandles> h = running.handlesAtStart(vm);
        if (h.isPresent() && vm.state() == VmState.RUNNING && h.get().vmm() != null
                && running.driver(vm.vmm()).isRunning(h.get().vmm())) {
            log.info("reconcile: VM {} is running (pid {}); adopted", vm.name(), h.get().vmm().pid());
            dns.running(vm);
            return;
        }
        String why = h.isEmpty() ? "its handles were missing or unreadable at daemon start"
                : vm.state() != VmState.RUNNING ? "the daemon stopped while it was " + vm.state().wireName()
                : h.get().vmm() == null ? "it had no VMM at daemon start"
                : "its VMM (pid " + h.get().vmm().pid() + ") was gone at daemon start";
        teardown.release(vm);
        vms.update(vm.withState(VmState.STOPPED, "stopped by reconcile: " + why, clock.instant()));
        log.warn("reconcile: VM {} demoted to stopped: {}", vm.name(), why);
    }

    /**
     * A VM recorded {@code created}, {@code stopped} or {@code error} holds nothing on the host but its files. A
     * daemon killed while it provisioned the VM's disks or promoted its root disk can have left handles (loops, a
     * device-mapper device), a runtime dir or the work-disk seed (which holds the VM's private host key): they
     * are released and the state stands. A {@code created} or {@code stopped} VM whose disks are incomplete (the
     * daemon stopped while creating or deleting it) goes to {@code error} saying so, since it cannot start.
     */
    private void reconcileAtRest(Vm vm) {
        if (Files.exists(paths.vmHandlesFile(vm.id())) || Files.exists(paths.vmRuntimeDir(vm.id()))) {
            teardown.release(vm);
            log.warn("reconcile: VM {} ({}) held host resources a stopped daemon left; released", vm.name(),
                    vm.state().wireName());
        }
        try {
            dev.banger.util.Files2.deleteRecursively(paths.vmWorkSeedDir(vm.id()));
        } catch (IOException e) {
            log.warn("reconcile: could not remove the work-disk seed of VM {}: {}", vm.name(), e.toString());
        }
        if ((vm.state() == VmState.CREATED || vm.state() == VmState.STOPPED) && !disks.exist(vm)) {
            String why = "its disks are incomplete in " + vm.vmDir() + " (the daemon stopped while creating or "
                    + "deleting it); delete it (banger vm delete " + vm.name() + ")";
            update(vm, VmState.ERROR, why);
            log.warn("reconcile: VM {}: {}", vm.name(), why);
        }
    }

    // ---- internals (callers hold the VM's lock) ----

    private static String address(Vm vm) {
        return vm.guestIp() == null ? vm.dnsName() : vm.dnsName() + ", " + vm.guestIp();
    }

    private Vm stopLocked(Vm vm, boolean force, Call call) {
        if (!running.isAlive(vm)) {
            teardown.release(vm);
            return vm.state() == VmState.RUNNING || vm.state() == VmState.STARTING || vm.state() == VmState.STOPPING
                    ? update(vm, VmState.STOPPED, null) : vm;
        }
        Vm stopping = update(vm, VmState.STOPPING, null);
        VmmDriver driver = running.driver(vm.vmm());
        VmmHandle handle = running.vmmOf(vm).orElseThrow();
        long t0 = System.nanoTime();
        Optional<GuestPause> frozen = force ? Optional.empty() : pauseBarringPowerOff(vm, handle);
        call.emit(Event.Progress.started("stop", force ? "killing the VMM" : frozen.isPresent()
                ? "the guest is paused (" + frozen.get().reason() + ") and cannot power off; stopping its VMM"
                : "asking the guest to power off"));
        if (!force && frozen.isEmpty()) {
            boolean exited = false;
            try {
                running.agent(vm).shutdown(ShutdownAction.POWEROFF);
                exited = driver.awaitExit(handle, GUEST_POWEROFF_TIMEOUT);
            } catch (IOException | BangerException e) {
                log.info("VM {}: agent shutdown failed ({}); pressing the power button", vm.name(), e.getMessage());
            }
            if (!exited) {
                driver.requestPowerdown(handle);
                exited = driver.awaitExit(handle, ACPI_POWEROFF_TIMEOUT);
            }
            if (!exited) {
                log.warn("VM {} did not power off; terminating its VMM", vm.name());
            }
        }
        teardown.release(vm);
        call.emit(Event.Progress.done("stop", "stopped", VmBoot.millisSince(t0)));
        log.info("VM {} stopped{}", vm.name(), force ? " (forced)" : "");
        return update(stopping, VmState.STOPPED, null);
    }

    /**
     * A guest its VMM paused cannot power off (asking it would wait out every timeout): one paused by a full disk
     * or an I/O error has its VMM terminated at once; any other pause is ended so that it powers off as usual.
     *
     * @return the pause that leaves no way but terminating the VMM, or empty
     */
    private Optional<GuestPause> pauseBarringPowerOff(Vm vm, VmmHandle handle) {
        Optional<GuestPause> pause = running.pauseOf(vm);
        if (pause.isEmpty()) {
            return pause;
        }
        if (pause.get().cause() == GuestPause.Cause.REQUESTED || pause.get().cause() == GuestPause.Cause.OTHER) {
            try {
                pause = running.pauses().resume(vm, handle);
            } catch (VmmException e) {
                log.info("VM {}: resuming its paused guest to power it off failed: {}", vm.name(), e.getMessage());
            }
        }
        pause.ifPresent(p -> log.info("VM {}: paused ({}); its VMM is terminated without asking the guest",
                vm.name(), p.reason()));
        return pause;
    }

    private Vm update(Vm vm, VmState state, String lastError) {
        Vm next = vm.withState(state, lastError, clock.instant());
        vms.update(next);
        return next;
    }

    private VmView view(Vm vm) {
        Long pid = running.vmmOf(vm).map(VmmHandle::pid).orElse(null);
        Optional<GuestPause> pause = running.pauseOf(vm);
        return new VmView(vm.id(), vm.name(), RunningVms.shownState(vm, pause),
                pause.map(GuestPause::reason).orElse(null),
                pause.map(p -> running.pauses().describe(vm, p)).orElse(null), vm.vmm().wireName(), vm.imageName(),
                vm.kernelName(), vm.cpus(), vm.memoryMib(), vm.diskMib(), vm.guestIp(), vm.dnsName(),
                vm.vmDir().toString(), vm.logPath().toString(), pid, vm.lastError(), vm.createdAt().toString(),
                vm.updatedAt().toString(), operations.running(vm.name()).map(op -> op.id + ": " + op.step())
                        .orElse(null), vm.state() == VmState.RUNNING
                        ? running.handles().get(vm.id()).map(VmHandles::start).orElse(null) : null);
    }
}
