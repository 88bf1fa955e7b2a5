package dev.banger.vm;

import dev.banger.api.BangerException;
import dev.banger.api.VmCreateRequest;
import dev.banger.api.VmDeleteRequest;
import dev.banger.api.VmDeleteResult;
import dev.banger.api.VmList;
import dev.banger.api.VmView;
import dev.banger.config.BangerPaths;
import dev.banger.config.DaemonConfig;
import dev.banger.model.Names;
import dev.banger.model.Vm;
import dev.banger.model.VmState;
import dev.banger.model.VmmKind;
import dev.banger.rpc.Call;
import dev.banger.store.ConstraintViolation;
import dev.banger.store.ImageStore;
import dev.banger.store.KernelStore;
import dev.banger.store.VmStore;
import dev.banger.util.Files2;
import java.io.IOException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** VM lifecycle: create, list, show, delete. */
public final class VmService {

    private static final Logger log = LoggerFactory.getLogger(VmService.class);
    private static final SecureRandom RANDOM = new SecureRandom();

    static final int MAX_CPUS = 64;
    static final int MIN_MEMORY_MIB = 128;
    static final long MIN_DISK_MIB = 64;

    private final BangerPaths paths;
    private final DaemonConfig config;
    private final VmStore vms;
    private final ImageStore images;
    private final KernelStore kernels;
    private final Clock clock;
    private final VmLocks locks = new VmLocks();

    public VmService(BangerPaths paths, DaemonConfig config, VmStore vms, ImageStore images, KernelStore kernels,
                     Clock clock) {
        this.paths = paths;
        this.config = config;
        this.vms = vms;
        this.images = images;
        this.kernels = kernels;
        this.clock = clock;
    }

    public VmView create(VmCreateRequest request, Call call) {
        String name = Names.requireValid("VM", request.name());
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
        String image = request.image();
        if (image != null && images.findByName(image).isEmpty()) {
            throw BangerException.notFound("image '" + image + "' not found; see: banger image list");
        }
        String kernel = request.kernel();
        if (kernel != null && kernels.findByName(kernel).isEmpty()) {
            throw BangerException.notFound("kernel '" + kernel + "' not found; see: banger kernel list");
        }
        if (kernel == null) {
            kernel = kernels.findDefault().map(k -> k.name()).orElse(null);
        }
        if (!request.noStart()) {
            throw BangerException.failedPrecondition("booting VMs is not implemented yet; use --no-start");
        }
        try (VmLocks.Guard ignored = locks.lock(name)) {
            String id = newId();
            Instant now = clock.instant();
            Vm vm = new Vm(id, name, VmState.CREATED, vmm, image, kernel, cpus, memory, disk, null, null, 0,
                    paths.vmDir(id), paths.vmControlSocket(id), paths.vmAgentSocket(id), paths.vmConsoleLog(id),
                    Vm.dnsNameOf(name), paths.vmRootDisk(id), paths.vmWorkDisk(id), null, now, now);
            try {
                vms.insert(vm);
            } catch (ConstraintViolation e) {
                if ("vms.name".equals(e.column())) {
                    throw BangerException.alreadyExists("a VM named '" + name + "' already exists; pick another "
                            + "name or delete it first (banger vm delete " + name + ")");
                }
                throw e;
            }
            try {
                java.nio.file.Files.createDirectories(vm.vmDir());
            } catch (IOException e) {
                vms.delete(id);
                throw BangerException.failedPrecondition("cannot create VM directory " + vm.vmDir() + ": "
                        + e.getMessage());
            }
            log.info("created VM {} ({}) without starting it", name, id);
            return view(vm);
        }
    }

    public VmList list() {
        return new VmList(vms.list().stream().map(this::view).toList());
    }

    public VmView show(String name) {
        return view(find(name));
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
                if (isActive(vm.state()) && !request.force()) {
                    throw BangerException.conflict("VM '" + name + "' is " + vm.state().wireName()
                            + "; stop it first or use --force");
                }
                removeFiles(vm);
                vms.delete(vm.id());
                deleted.add(name);
                log.info("deleted VM {} ({})", name, vm.id());
            }
        }
        return new VmDeleteResult(deleted);
    }

    private static boolean isActive(VmState state) {
        return state == VmState.RUNNING || state == VmState.STARTING || state == VmState.STOPPING;
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

    private Vm find(String name) {
        if (name == null) {
            throw BangerException.invalidArgument("a VM name is required");
        }
        return vms.findByName(name).orElseThrow(() ->
                BangerException.notFound("no such VM: " + name + "; see: banger vm list"));
    }

    private VmView view(Vm vm) {
        return new VmView(vm.id(), vm.name(), vm.state().wireName(), vm.vmm().wireName(), vm.imageName(),
                vm.kernelName(), vm.cpus(), vm.memoryMib(), vm.diskMib(), vm.guestIp(), vm.dnsName(),
                vm.vmDir().toString(), vm.logPath().toString(), null, vm.lastError(), vm.createdAt().toString(),
                vm.updatedAt().toString());
    }

    private static String newId() {
        byte[] bytes = new byte[6];
        RANDOM.nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }
}
