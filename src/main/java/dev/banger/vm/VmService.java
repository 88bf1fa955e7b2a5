package dev.banger.vm;

import dev.banger.api.BangerException;
import dev.banger.api.Event;
import dev.banger.api.VmCreateRequest;
import dev.banger.api.VmDeleteRequest;
import dev.banger.api.ImageView;
import dev.banger.api.VmDeleteResult;
import dev.banger.api.VmSetRequest;
import dev.banger.api.VmStats;
import dev.banger.api.VmList;
import dev.banger.api.VmStopRequest;
import dev.banger.api.VmView;
import dev.banger.config.BangerPaths;
import dev.banger.config.DaemonConfig;
import dev.banger.dns.VmDns;
import dev.banger.guest.AgentClient;
import dev.banger.guest.AgentException;
import dev.banger.guest.ShutdownAction;
import dev.banger.guest.AgentTransport;
import dev.banger.host.disk.RootDisk;
import dev.banger.host.network.AddressAllocator;
import dev.banger.host.network.GuestAddress;
import dev.banger.host.network.HostNetwork;
import dev.banger.image.ImageService;
import dev.banger.kernel.InitrdAssembler;
import dev.banger.kernel.KernelException;
import dev.banger.kernel.KernelService;
import dev.banger.model.Image;
import dev.banger.model.Kernel;
import dev.banger.model.Names;
import dev.banger.model.Vm;
import dev.banger.model.VmState;
import dev.banger.model.VmmKind;
import dev.banger.rpc.Call;
import dev.banger.ssh.GuestSsh;
import dev.banger.ssh.WorkDiskSeed;
import dev.banger.store.ConstraintViolation;
import dev.banger.store.VmStore;
import dev.banger.util.Files2;
import dev.banger.vmm.DiskSpec;
import dev.banger.vmm.NetworkSpec;
import dev.banger.vmm.VmSpec;
import dev.banger.vmm.VmmDriver;
import dev.banger.vmm.VmmException;
import dev.banger.vmm.VmmHandle;
import dev.banger.vmm.VmmProcess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * VM lifecycle: create (provision disks, boot), start, stop, restart, delete, list, show; and the liveness of a
 * VM ({@link #vmAlive}), the one place that decides whether a VM's VMM is really running. Lifecycle operations
 * hold the VM's lock (see {@link VmLocks}); exec and logs do not.
 */
public final class VmService {

    private static final Logger log = LoggerFactory.getLogger(VmService.class);
    private static final SecureRandom RANDOM = new SecureRandom();

    static final int MAX_CPUS = 64;
    static final int MIN_MEMORY_MIB = 128;
    static final long MIN_DISK_MIB = 64;
    /** How long a guest gets to power off after the agent's shutdown, and after the ACPI button. */
    static final Duration GUEST_POWEROFF_TIMEOUT = Duration.ofSeconds(15);
    static final Duration ACPI_POWEROFF_TIMEOUT = Duration.ofSeconds(5);
    static final Duration TERMINATE_GRACE = Duration.ofSeconds(3);
    static final String AGENT_PORT_NAME = "banger.agent";

    private final BangerPaths paths;
    private final DaemonConfig config;
    private final VmStore vms;
    private final ImageService images;
    private final KernelService kernels;
    private final Map<VmmKind, VmmDriver> drivers;
    private final VmDisks disks;
    private final InitrdAssembler initrds;
    private final Path initBinary;
    private final Clock clock;
    private final VmLocks locks = new VmLocks();
    private final CreateOperations operations;
    private final HandleStore handles;
    private final GuestConnections guests = new GuestConnections();
    private final HostNetwork network;
    private final AddressAllocator addresses;
    private final GuestSsh ssh;
    private final VmDns dns;
    /** Serialises allocate-address-and-insert across VMs (lock order: VM lock, then this, then the store). */
    private final Object allocationLock = new Object();

    public VmService(BangerPaths paths, DaemonConfig config, VmStore vms, ImageService images, KernelService kernels,
                     Map<VmmKind, VmmDriver> drivers, HostNetwork network, dev.banger.host.CommandRunner runner,
                     Path initBinary, Clock clock, GuestSsh ssh, VmDns dns) {
        this.paths = paths;
        this.config = config;
        this.vms = vms;
        this.images = images;
        this.kernels = kernels;
        this.drivers = Map.copyOf(drivers);
        this.disks = new VmDisks(runner);
        this.initrds = new InitrdAssembler();
        this.initBinary = initBinary;
        this.clock = clock;
        this.handles = new HandleStore(paths);
        this.operations = new CreateOperations(clock);
        this.network = network;
        this.addresses = new AddressAllocator(network.config());
        this.ssh = ssh;
        this.dns = dns;
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
                    request.memoryMib(), request.diskMib(), request.vmm(), request.noStart());
            VmView view = view(create(named, null, op.recording(call)));
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
     */
    Vm create(VmCreateRequest request, Consumer<Path> workDiskSeed, Call call) {
        String name = Names.requireValid("VM", request.name() != null ? request.name() : generateName());
        int cpus = request.cpus() != null ? request.cpus() : config.cpus();
        int memory = request.memoryMib() != null ? request.memoryMib() : config.memoryMib();
        long disk = request.diskMib() != null ? request.diskMib() : config.diskMib();
        if (cpus < 1 || cpus > MAX_CPUS) {
            throw BangerException.invalidArgument("--cpus " + cpus + " is out of range: use 1.." + MAX_CPUS);
        }
        if (memory < MIN_MEMORY_MIB) {
            throw BangerException.invalidArgument("--memory " + memory + "M is too small: use at least "
                    + MIN_MEMORY_MIB + "M");
        }
        if (disk < MIN_DISK_MIB) {
            throw BangerException.invalidArgument("--disk " + disk + "M is too small: use at least "
                    + MIN_DISK_MIB + "M");
        }
        VmmKind vmm = request.vmm() == null ? VmmKind.QEMU : VmmKind.fromWire(request.vmm());
        try {
            driver(vmm).requireAvailable();
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
        try (VmLocks.Guard ignored = locks.lock(name)) {
            String id = newId();
            Instant now = clock.instant();
            Path rootDisk = disks.rootDiskFile(vmm, paths.vmDir(id));
            Vm vm;
            synchronized (allocationLock) {
                GuestAddress address;
                try {
                    address = addresses.allocate(vms.usedIps(), vms.usedCids());
                } catch (IllegalStateException e) {
                    throw BangerException.failedPrecondition(e.getMessage());
                }
                vm = new Vm(id, name, VmState.CREATED, vmm, image.name(), kernel.name(), cpus, memory, disk,
                        address.ip(), address.mac(), address.cid(), paths.vmDir(id), paths.vmControlSocket(id),
                        paths.vmAgentSocket(id), paths.vmConsoleLog(id), Vm.dnsNameOf(name), rootDisk,
                        paths.vmWorkDisk(id), null, now, now);
                try {
                    vms.insert(vm);
                } catch (ConstraintViolation e) {
                    if ("vms.name".equals(e.column())) {
                        throw BangerException.alreadyExists("a VM named '" + name + "' already exists; pick another "
                                + "name or delete it first (banger vm delete " + name + ")");
                    }
                    throw e;
                }
            }
            call.emit(Event.Progress.started("create", "creating VM " + name + " (" + address(vm) + ")"));
            try {
                provision(vm, image, workDiskSeed, call);
            } catch (RuntimeException e) {
                removeFiles(vm);
                ssh.forget(vm);
                vms.delete(id);
                throw e;
            }
            log.info("created VM {} ({}) from image {} and kernel {}", name, id, image.name(), kernel.name());
            if (request.noStart()) {
                return vm;
            }
            return boot(vm, call);
        }
    }

    public VmView start(String name, Call call) {
        try (VmLocks.Guard ignored = locks.lock(name)) {
            Vm vm = find(name);
            if (vmAlive(vm)) {
                return view(vm);
            }
            if (!disks.exist(vm)) {
                throw BangerException.failedPrecondition("the disks of VM '" + name + "' are missing from "
                        + vm.vmDir() + "; delete the VM and create it again");
            }
            return view(boot(vm, call));
        }
    }

    public VmView stop(VmStopRequest request, Call call) {
        try (VmLocks.Guard ignored = locks.lock(request.name())) {
            return view(stopLocked(find(request.name()), request.force(), call));
        }
    }

    public VmView restart(VmStopRequest request, Call call) {
        try (VmLocks.Guard ignored = locks.lock(request.name())) {
            Vm stopped = stopLocked(find(request.name()), request.force(), call);
            return view(boot(stopped, call));
        }
    }

    public VmDeleteResult delete(VmDeleteRequest request) {
        if (request.names() == null || request.names().isEmpty()) {
            throw BangerException.invalidArgument("name at least one VM to delete");
        }
        List<String> missing = request.names().stream().filter(n -> vms.findByName(n).isEmpty()).toList();
        if (!missing.isEmpty()) {
            throw BangerException.notFound("no such VM: " + String.join(", ", missing) + "; see: banger vm list");
        }
        List<String> deleted = new ArrayList<>();
        for (String name : request.names()) {
            try (VmLocks.Guard ignored = locks.lock(name)) {
                Vm vm = vms.findByName(name).orElse(null);
                if (vm == null) {
                    continue; // Deleted concurrently: the caller's intent holds.
                }
                if (vmAlive(vm)) {
                    if (!request.force()) {
                        throw BangerException.conflict("VM '" + name + "' is running; stop it first or use --force");
                    }
                    stopLocked(vm, true, Call.detached());
                }
                tearDown(vm);
                removeFiles(vm);
                ssh.forget(vm);
                vms.delete(vm.id());
                deleted.add(name);
                log.info("deleted VM {} ({})", name, vm.id());
            }
        }
        return new VmDeleteResult(deleted);
    }

    /**
     * {@code image promote}: captures a stopped VM's root disk (overlay and base merged) as a new image. Holds the
     * VM's lock so it cannot start while its disk is read.
     */
    public ImageView promote(String vmName, String imageName) {
        try (VmLocks.Guard ignored = locks.lock(vmName)) {
            Vm vm = find(vmName);
            if (vmAlive(vm)) {
                throw BangerException.conflict("VM '" + vmName + "' is running; stop it before promoting its disk");
            }
            if (!Files.isRegularFile(vm.rootDiskPath())) {
                throw BangerException.failedPrecondition("VM '" + vmName + "' has no root disk at "
                        + vm.rootDiskPath());
            }
            Image base = images.get(vm.imageName());
            // Whatever the copy-on-write strategy (qcow2 overlay, device-mapper snapshot, copy), attach the disk
            // as a boot would and convert what the guest sees; then release what the attach took.
            RootDisk root = disks.attachRootDisk(vm, base.rootfsPath(), acquired -> { });
            try {
                return images.publishConverted(imageName, root.attachPath(),
                        root.format() == DiskSpec.Format.QCOW2 ? "qcow2" : "raw", "promote:" + vmName, base);
            } finally {
                disks.releaseRootDisk(root.handles());
            }
        }
    }

    public VmView set(VmSetRequest request) {
        try (VmLocks.Guard ignored = locks.lock(request.name())) {
            Vm vm = find(request.name());
            int cpus = request.cpus() != null ? request.cpus() : vm.cpus();
            int memory = request.memoryMib() != null ? request.memoryMib() : vm.memoryMib();
            long disk = request.diskMib() != null ? request.diskMib() : vm.diskMib();
            if (cpus == vm.cpus() && memory == vm.memoryMib() && disk == vm.diskMib()) {
                return view(vm);
            }
            if (cpus < 1 || cpus > MAX_CPUS) {
                throw BangerException.invalidArgument("--cpus " + cpus + " is out of range: use 1.." + MAX_CPUS);
            }
            if (memory < MIN_MEMORY_MIB) {
                throw BangerException.invalidArgument("--memory " + memory + "M is too small: use at least "
                        + MIN_MEMORY_MIB + "M");
            }
            if (disk < vm.diskMib()) {
                throw BangerException.invalidArgument("--disk " + disk + "M is smaller than the work disk ("
                        + vm.diskMib() + "M): disks can only grow");
            }
            if (vmAlive(vm)) {
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

    public VmStats stats(String name) throws InterruptedException {
        Vm vm = find(name);
        double cpu = -1;
        long rss = -1;
        long memTotal = -1;
        long memAvailable = -1;
        long[] net = {-1, -1};
        Optional<VmHandles> h = handles.get(vm.id());
        if (vmAlive(vm)) {
            VmmHandle vmm = h.get().vmm();
            cpu = ProcessUsage.cpuPercent(vmm.pid(), Duration.ofMillis(250));
            rss = ProcessUsage.rssBytes(vmm.pid());
            try {
                Map<String, Long> meminfo = ProcessUsage.meminfo(guest(vm));
                memTotal = meminfo.getOrDefault("MemTotal", -1L);
                memAvailable = meminfo.getOrDefault("MemAvailable", -1L);
            } catch (IOException | BangerException e) {
                log.debug("no guest meminfo for {}: {}", vm.name(), e.getMessage());
            }
            if (h.get().tap() != null) {
                net = network.tapBytes(h.get().tap()).orElse(net);
            }
        }
        return new VmStats(vm.name(), vm.state().wireName(), cpu, rss, memTotal, memAvailable, disks.usage(vm),
                net[0], net[1]);
    }

    /** The image a VM was created from: exec, sessions and vm run take its Env and WorkingDir. */
    public Image imageOf(Vm vm) {
        return images.get(vm.imageName());
    }

    public VmList list() {
        return new VmList(vms.list().stream().map(this::view).toList());
    }

    public VmView show(String name) {
        return view(find(name));
    }

    /**
     * Whether the VM's VMM is running right now: its handles name a process that still exists (the same one,
     * by start time) and whose control socket answers. The only liveness check; everything else asks it.
     */
    boolean vmAlive(Vm vm) {
        Optional<VmHandles> h = handles.get(vm.id());
        return h.isPresent() && h.get().vmm() != null && driver(vm.vmm()).isAlive(h.get().vmm());
    }

    /** The agent connection of a running VM. @throws BangerException conflict when it is not running */
    public AgentClient guest(Vm vm) {
        if (!vmAlive(vm)) {
            throw BangerException.conflict("VM '" + vm.name() + "' is not running (state " + vm.state().wireName()
                    + "); start it with: banger vm start " + vm.name());
        }
        return guests.client(vm, driver(vm.vmm()).agentTransport(handles.get(vm.id()).orElseThrow().vmm()));
    }

    /** @throws BangerException not found, with a hint, when there is no such VM */
    public Vm find(String name) {
        if (name == null) {
            throw BangerException.invalidArgument("a VM name is required");
        }
        return vms.findByName(name).orElseThrow(() ->
                BangerException.notFound("no such VM: " + name + "; see: banger vm list"));
    }

    // ---- reconcile ----

    /**
     * At daemon start: every VM recorded as running (or caught mid-transition) is either adopted, when its
     * handles name a live VMM, or torn down and demoted to stopped with the reason in last_error.
     */
    public void reconcile() {
        for (Vm vm : vms.list()) {
            if (vm.state() != VmState.RUNNING && vm.state() != VmState.STARTING && vm.state() != VmState.STOPPING) {
                continue;
            }
            try (VmLocks.Guard ignored = locks.lock(vm.name())) {
                Optional<VmHandles> h = handles.load(vm.id()).or(() -> rediscover(vm));
                if (h.isPresent() && vm.state() == VmState.RUNNING && h.get().vmm() != null
                        && driver(vm.vmm()).isAlive(h.get().vmm())) {
                    log.info("reconcile: VM {} is running (pid {}); adopted", vm.name(), h.get().vmm().pid());
                    dns.running(vm);
                    continue;
                }
                String why = h.isEmpty() ? "its handles were missing or unreadable at daemon start"
                        : vm.state() != VmState.RUNNING ? "the daemon stopped while it was " + vm.state().wireName()
                        : h.get().vmm() == null ? "it had no VMM at daemon start"
                        : "its VMM (pid " + h.get().vmm().pid() + ") was gone at daemon start";
                tearDown(vm);
                vms.update(vm.withState(VmState.STOPPED, "stopped by reconcile: " + why, clock.instant()));
                log.warn("reconcile: VM {} demoted to stopped: {}", vm.name(), why);
            }
        }
    }

    /**
     * Handles rebuilt from the host when handles.json is missing or unreadable: the VMM is the process whose
     * command line names this VM's control socket; the tap has a deterministic name.
     */
    private Optional<VmHandles> rediscover(Vm vm) {
        return VmmProcess.findByArgument(vm.controlSocket().toString()).flatMap(pid ->
                VmmProcess.stat(pid).map(stat -> {
                    VmHandles found = new VmHandles(new VmmHandle(vm.id(), vm.vmm(), pid, stat.startTicks(),
                            vm.controlSocket(), vm.agentSocket(), vm.logPath()), HostNetwork.tapName(vm.id()), null);
                    log.info("reconcile: VM {} had no readable handles; found its VMM as pid {}", vm.name(), pid);
                    try {
                        handles.put(vm.id(), found);
                    } catch (IOException e) {
                        log.warn("could not rewrite the handles of {}: {}", vm.name(), e.toString());
                    }
                    return found;
                }));
    }

    // ---- internals (callers hold the VM's lock) ----

    private void provision(Vm vm, Image image, Consumer<Path> workDiskSeed, Call call) {
        long t0 = System.nanoTime();
        call.emit(Event.Progress.started("provision-disks", "provisioning disks"));
        Path seedDir = paths.vmWorkSeedDir(vm.id());
        try {
            Files.createDirectories(vm.vmDir());
            disks.createRootDisk(vm, image.rootfsPath());
            WorkDiskSeed seed = WorkDiskSeed.create(seedDir);
            ssh.provision(vm, seed);
            if (workDiskSeed != null) {
                workDiskSeed.accept(seed.dir());
            }
            disks.createWorkDisk(vm, seed.dir());
        } catch (IOException | UncheckedIOException | IllegalStateException e) {
            throw BangerException.failedPrecondition("cannot provision the disks of VM '" + vm.name() + "' in "
                    + vm.vmDir() + ": " + e.getMessage());
        } finally {
            try {
                Files2.deleteRecursively(seedDir); // It holds the VM's private host key; the disk has it now.
            } catch (IOException e) {
                log.warn("could not remove the work-disk seed {}: {}", seedDir, e.toString());
            }
        }
        call.emit(Event.Progress.done("provision-disks", "disks ready", millisSince(t0)));
    }

    private static String address(Vm vm) {
        return vm.guestIp() == null ? vm.dnsName() : vm.dnsName() + ", " + vm.guestIp();
    }

    private Vm boot(Vm vm, Call call) {
        Vm starting = update(vm, VmState.STARTING, null);
        VmmDriver driver = driver(vm.vmm());
        VmmHandle handle = null;
        try {
            Kernel kernel = kernels.resolve(vm.kernelName());
            preflight(vm, kernel, imageOf(vm));
            long t0 = System.nanoTime();
            call.emit(Event.Progress.started("launch-vmm", "starting " + vm.vmm().wireName()));
            Path initrd = initrds.initrdFor(kernel.artifacts(), initBinary);
            Path runtime = paths.vmRuntimeDir(vm.id());
            Files.createDirectories(runtime, PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rwx------")));
            truncate(vm.logPath());
            // Every host resource goes into the handles as soon as it is held: a crash at any step leaves
            // enough in handles.json for reconcile to release it.
            handles.put(vm.id(), VmHandles.NONE);
            RootDisk root = disks.attachRootDisk(vm, imageOf(vm).rootfsPath(), acquired ->
                    record(vm, h -> h.withRootDisk(acquired)));
            String tap = HostNetwork.tapName(vm.id());
            network.ensureBridge();
            network.createTap(tap);
            record(vm, h -> h.withTap(tap));
            VmSpec spec = new VmSpec(vm.id(), vm.name(), vm.cpus(), vm.memoryMib(), bootImage(vm, kernel),
                    initrd, kernelCommandLine(vm), List.of(root.toDiskSpec(),
                            new DiskSpec(vm.workDiskPath(), DiskSpec.Format.RAW, false, DiskSpec.Role.WORK)),
                    vm.agentSocket(), vm.controlSocket(), vm.logPath(), vm.vmDir(), vm.vsockCid(),
                    Optional.of(new NetworkSpec(tap, vm.mac())));
            handle = driver.launch(spec);
            VmmHandle launched = handle;
            record(vm, h -> h.withVmm(launched));
            call.emit(Event.Progress.done("launch-vmm", vm.vmm().wireName() + " running (pid " + handle.pid() + ")",
                    millisSince(t0)));

            long t1 = System.nanoTime();
            call.emit(Event.Progress.started("wait-agent", "waiting for the guest agent"));
            guests.adopt(vm, awaitAgent(vm, driver, handle));
            call.emit(Event.Progress.done("wait-agent", "guest ready", millisSince(t1)));
            log.info("VM {} running (pid {}), booted in {} ms", vm.name(), handle.pid(), millisSince(t0));
            Vm running = update(starting, VmState.RUNNING, null);
            dns.running(running);
            return running;
        } catch (BangerException | KernelException | VmmException | IllegalStateException | IOException e) {
            String message = e.getMessage();
            log.warn("VM {} failed to start: {}", vm.name(), message);
            tearDown(vm);
            update(starting, VmState.ERROR, message);
            if (e instanceof BangerException be) {
                throw be;
            }
            throw BangerException.unavailable("VM '" + vm.name() + "' failed to start: " + message);
        } catch (RuntimeException e) {
            tearDown(vm);
            update(starting, VmState.ERROR, "internal error: " + e);
            throw e;
        }
    }

    /** The file {@code vm}'s VMM boots: the kernel, or for Firecracker the vmlinux unpacked from its bzImage. */
    private static Path bootImage(Vm vm, Kernel kernel) {
        return kernel.artifacts().bootImage(vm.vmm()).orElseThrow(() -> BangerException.failedPrecondition(
                "kernel '" + kernel.name() + "' has no ELF vmlinux for " + vm.vmm().wireName()
                        + "; import the kernel again (banger kernel delete, then banger kernel pull or import)"));
    }

    /** Free space a boot wants in the state dir: the overlay's first writes, logs, a fresh initrd. */
    static final long MIN_FREE_BYTES = 256L << 20;

    /** What a boot needs from the host, checked up front so each missing piece gets its own clear message. */
    private void preflight(Vm vm, Kernel kernel, Image image) {
        Path kernelFile = bootImage(vm, kernel);
        if (!Files.isRegularFile(kernelFile)) {
            throw BangerException.failedPrecondition("the kernel file " + kernelFile + " of kernel '" + kernel.name()
                    + "' is missing; import the kernel again (banger kernel delete " + kernel.name() + ", then "
                    + "banger kernel pull or import)");
        }
        if (!Files.isRegularFile(image.rootfsPath())) {
            throw BangerException.failedPrecondition("the root filesystem " + image.rootfsPath() + " of image '"
                    + image.name() + "' is missing; pull or register the image again");
        }
        if (!Files.exists(Path.of("/dev/net/tun"))) {
            throw BangerException.failedPrecondition("/dev/net/tun is missing, so VMs get no network device; load "
                    + "the tun module (modprobe tun)");
        }
        try {
            long free = Files.getFileStore(vm.vmDir()).getUsableSpace();
            if (free < MIN_FREE_BYTES) {
                throw BangerException.failedPrecondition("only " + (free >> 20) + " MiB free for " + vm.vmDir()
                        + "; a boot needs at least " + (MIN_FREE_BYTES >> 20) + " MiB (free space or delete VMs)");
            }
        } catch (IOException e) {
            throw BangerException.failedPrecondition("cannot read the free space of " + vm.vmDir() + ": "
                    + e.getMessage());
        }
    }

    /** Waits for the agent, giving up early when the VMM exits (a kernel that cannot boot). */
    private AgentClient awaitAgent(Vm vm, VmmDriver driver, VmmHandle handle) {
        Duration limit = config.bootTimeout();
        long end = System.nanoTime() + limit.toNanos();
        AgentTransport transport = driver.agentTransport(handle);
        while (true) {
            long slice = Math.min(Duration.ofSeconds(2).toNanos(), end - System.nanoTime());
            try {
                return AgentClient.awaitReady(transport, Duration.ofNanos(Math.max(slice, 1)), vm.logPath());
            } catch (AgentException e) {
                if (!driver.isAlive(handle)) {
                    throw BangerException.unavailable("VM '" + vm.name() + "' exited during boot before its guest "
                            + "agent answered; see the serial console log " + vm.logPath());
                }
                if (System.nanoTime() >= end) {
                    throw BangerException.unavailable("guest agent of VM '" + vm.name() + "' did not answer within "
                            + limit.toSeconds() + "s; see the serial console log " + vm.logPath());
                }
            }
        }
    }

    private Vm stopLocked(Vm vm, boolean force, Call call) {
        if (!vmAlive(vm)) {
            tearDown(vm);
            return vm.state() == VmState.RUNNING || vm.state() == VmState.STARTING || vm.state() == VmState.STOPPING
                    ? update(vm, VmState.STOPPED, null) : vm;
        }
        Vm stopping = update(vm, VmState.STOPPING, null);
        VmmDriver driver = driver(vm.vmm());
        VmmHandle handle = handles.get(vm.id()).orElseThrow().vmm();
        long t0 = System.nanoTime();
        call.emit(Event.Progress.started("stop", force ? "killing the VMM" : "asking the guest to power off"));
        if (!force) {
            boolean exited = false;
            try {
                guest(vm).shutdown(ShutdownAction.POWEROFF);
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
        tearDown(vm);
        call.emit(Event.Progress.done("stop", "stopped", millisSince(t0)));
        log.info("VM {} stopped{}", vm.name(), force ? " (forced)" : "");
        return update(stopping, VmState.STOPPED, null);
    }

    /** Releases every host resource the VM's handles name; idempotent, also for half-built state. */
    private void tearDown(Vm vm) {
        dns.stopped(vm);
        guests.drop(vm);
        Optional<VmHandles> h = handles.get(vm.id()).or(() -> handles.load(vm.id())).or(() -> rediscover(vm));
        h.ifPresent(value -> {
            if (value.vmm() != null) {
                driver(vm.vmm()).terminate(value.vmm(), TERMINATE_GRACE);
            }
            try {
                disks.releaseRootDisk(value.rootDisk());
            } catch (RuntimeException e) {
                log.warn("VM {}: releasing its root disk failed: {}", vm.name(), e.getMessage());
            }
        });
        handles.remove(vm.id());
        network.deleteTap(HostNetwork.tapName(vm.id())); // By name: also when the handles were lost.
        try {
            Files2.deleteRecursively(paths.vmRuntimeDir(vm.id()));
        } catch (IOException e) {
            log.warn("could not remove the sockets of VM {}: {}", vm.name(), e.toString());
        }
    }

    /** Updates the VM's handles (cache and handles.json) as a boot acquires resources. */
    private void record(Vm vm, java.util.function.UnaryOperator<VmHandles> change) {
        try {
            handles.put(vm.id(), change.apply(handles.get(vm.id()).orElse(VmHandles.NONE)));
        } catch (IOException e) {
            throw BangerException.failedPrecondition("cannot write the handles of VM '" + vm.name() + "': "
                    + e.getMessage());
        }
    }

    private String kernelCommandLine(Vm vm) {
        return "console=ttyS0 quiet panic=-1 banger.root=/dev/vda banger.work=/dev/vdb banger.hostname=" + vm.name()
                + " banger.agent=serial:" + AGENT_PORT_NAME + " " + network.guestKernelArgs(vm.guestIp());
    }

    private void removeFiles(Vm vm) {
        try {
            Files2.deleteRecursively(vm.vmDir());
            Files2.deleteRecursively(paths.vmRuntimeDir(vm.id()));
        } catch (IOException e) {
            throw BangerException.failedPrecondition("cannot remove the files of VM '" + vm.name() + "': "
                    + e.getMessage());
        }
    }

    private Vm update(Vm vm, VmState state, String lastError) {
        Vm next = vm.withState(state, lastError, clock.instant());
        vms.update(next);
        return next;
    }

    private VmmDriver driver(VmmKind kind) {
        VmmDriver driver = drivers.get(kind);
        if (driver == null) {
            throw BangerException.failedPrecondition("the " + kind.wireName() + " VMM is not available on this "
                    + "host; see: banger doctor");
        }
        return driver;
    }

    private VmView view(Vm vm) {
        Long pid = handles.get(vm.id()).filter(h -> h.vmm() != null).map(h -> h.vmm().pid()).orElse(null);
        return new VmView(vm.id(), vm.name(), vm.state().wireName(), vm.vmm().wireName(), vm.imageName(),
                vm.kernelName(), vm.cpus(), vm.memoryMib(), vm.diskMib(), vm.guestIp(), vm.dnsName(),
                vm.vmDir().toString(), vm.logPath().toString(), pid, vm.lastError(), vm.createdAt().toString(),
                vm.updatedAt().toString(), operations.running(vm.name()).map(op -> op.id + ": " + op.step())
                        .orElse(null));
    }

    private static void truncate(Path file) throws IOException {
        Files.deleteIfExists(file);
    }

    private static long millisSince(long nanos) {
        return (System.nanoTime() - nanos) / 1_000_000;
    }

    private static String newId() {
        byte[] bytes = new byte[6];
        RANDOM.nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }
}
