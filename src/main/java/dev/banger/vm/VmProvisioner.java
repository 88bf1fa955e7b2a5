package dev.banger.vm;

import dev.banger.api.BangerException;
import dev.banger.api.Event;
import dev.banger.config.BangerPaths;
import dev.banger.host.network.AddressAllocator;
import dev.banger.host.network.GuestAddress;
import dev.banger.model.Image;
import dev.banger.model.Kernel;
import dev.banger.model.Vm;
import dev.banger.model.VmState;
import dev.banger.model.VmmKind;
import dev.banger.rpc.Call;
import dev.banger.ssh.GuestSsh;
import dev.banger.ssh.WorkDiskSeed;
import dev.banger.store.ConstraintViolation;
import dev.banger.store.VmStore;
import dev.banger.template.Template;
import dev.banger.util.Files2;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Optional;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The durable half of a VM: its record with unique addresses, its disks and SSH identity at create, and their
 * removal at delete. Callers hold the VM's lock.
 */
final class VmProvisioner {

    private static final Logger log = LoggerFactory.getLogger(VmProvisioner.class);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final BangerPaths paths;
    private final VmStore vms;
    private final VmDisks disks;
    private final AddressAllocator addresses;
    private final GuestSsh ssh;
    private final Clock clock;
    /** Serialises allocate-address-and-insert across VMs (lock order: VM lock, then this, then the store). */
    private final Object allocationLock = new Object();

    VmProvisioner(BangerPaths paths, VmStore vms, VmDisks disks, AddressAllocator addresses, GuestSsh ssh,
                  Clock clock) {
        this.paths = paths;
        this.vms = vms;
        this.disks = disks;
        this.addresses = addresses;
        this.ssh = ssh;
        this.clock = clock;
    }

    /**
     * Records a new VM in state {@code created} with the lowest free IP, MAC and vsock CID, and its root disk file:
     * of the kind this host gives {@code vmm}, or of {@code restoreFrom}'s kind when its first boot restores from
     * that template.
     *
     * @throws BangerException already exists when the name is taken; failed precondition when the subnet is full
     */
    Vm record(String name, VmmKind vmm, Image image, Kernel kernel, int cpus, int memoryMib, long diskMib,
              Optional<Template> restoreFrom) {
        String id = newId();
        Instant now = clock.instant();
        Path rootDisk = disks.rootDiskFile(vmm, paths.vmDir(id), restoreFrom);
        synchronized (allocationLock) {
            GuestAddress address;
            try {
                address = addresses.allocate(vms.usedIps(), vms.usedCids());
            } catch (IllegalStateException e) {
                throw BangerException.failedPrecondition(e.getMessage());
            }
            Vm vm = new Vm(id, name, VmState.CREATED, vmm, image.name(), kernel.name(), cpus, memoryMib, diskMib,
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
            return vm;
        }
    }

    /**
     * Creates the VM's disks: the root disk over the image, and the work disk seeded with banger's authorized key,
     * the VM's host key, whatever {@code workDiskSeed} lays in, and the request that the first boot copy in the
     * image's own /root. On failure the VM's record and files go again.
     *
     * @param rootDisk whether to make the root disk now; false for a VM whose first boot restores from a template
     *     and copies the template's (a copy of the image made now would be thrown away)
     * @param workDiskSeed lays files into the work disk's root (the guest's /root), or null
     */
    void provision(Vm vm, Image image, boolean rootDisk, Consumer<Path> workDiskSeed, Call call) {
        long t0 = System.nanoTime();
        call.emit(Event.Progress.started("provision-disks", "provisioning disks"));
        Path seedDir = paths.vmWorkSeedDir(vm.id());
        try {
            Files.createDirectories(vm.vmDir());
            if (rootDisk) {
                disks.createRootDisk(vm, image.rootfsPath());
            }
            WorkDiskSeed seed = WorkDiskSeed.create(seedDir);
            ssh.provision(vm, seed);
            seed.seedImageHome();
            if (workDiskSeed != null) {
                workDiskSeed.accept(seed.dir());
            }
            disks.createWorkDisk(vm, seed.dir());
        } catch (IOException | UncheckedIOException | IllegalStateException e) {
            remove(vm);
            throw BangerException.failedPrecondition("cannot provision the disks of VM '" + vm.name() + "' in "
                    + vm.vmDir() + ": " + e.getMessage());
        } catch (RuntimeException e) {
            remove(vm);
            throw e;
        } finally {
            try {
                Files2.deleteRecursively(seedDir); // It holds the VM's private host key; the disk has it now.
            } catch (IOException e) {
                log.warn("could not remove the work-disk seed {}: {}", seedDir, e.toString());
            }
        }
        call.emit(Event.Progress.done("provision-disks", "disks ready", VmBoot.millisSince(t0)));
    }

    /** Removes the VM's files, its host-key pins and its record: the end of delete, after its teardown. */
    void remove(Vm vm) {
        try {
            Files2.deleteRecursively(vm.vmDir());
            Files2.deleteRecursively(paths.vmRuntimeDir(vm.id()));
        } catch (IOException e) {
            throw BangerException.failedPrecondition("cannot remove the files of VM '" + vm.name() + "': "
                    + e.getMessage());
        }
        ssh.forget(vm);
        vms.delete(vm.id());
    }

    private static String newId() {
        byte[] bytes = new byte[6];
        RANDOM.nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }
}
