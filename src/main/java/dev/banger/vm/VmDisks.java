package dev.banger.vm;

import dev.banger.host.disk.HostCapabilities;
import dev.banger.host.disk.RootDiskHandles;
import dev.banger.model.VmmKind;
import java.util.Optional;
import java.util.function.Consumer;
import dev.banger.template.Template;
import dev.banger.api.BangerException;
import dev.banger.host.Command;
import dev.banger.host.CommandFailedException;
import dev.banger.host.CommandRunner;
import dev.banger.host.disk.RootDisk;
import dev.banger.host.disk.RootDiskChooser;
import dev.banger.host.disk.RootDiskException;
import dev.banger.host.disk.RootDiskRequest;
import dev.banger.model.Vm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.function.Function;

/**
 * A VM's disks. Root: made by the {@link dev.banger.host.disk.RootDiskStrategy} that owns the VM's recorded root
 * disk file (for {@code root.qcow2}, a qcow2 overlay over the image's read-only ext4, so creating a VM costs the
 * same for any image size). Work: a sparse ext4 file, mounted at /root by banger-init, built with
 * {@code mkfs.ext4 -d} from a seed directory when there is something to put in it.
 */
final class VmDisks {

    private static final Duration TIMEOUT = Duration.ofMinutes(5);

    private final CommandRunner runner;
    private final RootDiskChooser rootDisks;
    private final HandleStore handles;

    /** @param handles where a root disk attached outside a boot (create, promote) records what it holds */
    VmDisks(CommandRunner runner, HandleStore handles) {
        this.runner = runner;
        this.rootDisks = RootDiskChooser.standard(runner);
        this.handles = handles;
    }

    /**
     * The root disk file a new VM gets: named by the copy-on-write strategy this host supports for {@code vmm}
     * (qcow2 overlay, device-mapper snapshot, or a copy), so the file alone tells later which strategy owns it. A
     * VM restored from a template takes a copy of the template's disk, so its file is of the template's kind
     * (the template's file name: a Firecracker clone has {@code root.img}, a raw copy, even where device-mapper
     * would give a booted VM {@code root.cow}).
     */
    Path rootDiskFile(VmmKind vmm, Path vmDir, Optional<Template> restoreFrom) {
        try {
            if (restoreFrom.isPresent()) {
                return rootDisks.forDiskFile(restoreFrom.get().rootDisk()).diskFile(vmDir);
            }
            return rootDisks.choose(HostCapabilities.probe(runner), vmm).diskFile(vmDir);
        } catch (RootDiskException e) {
            throw BangerException.failedPrecondition(e.getMessage());
        }
    }

    /** Creates the VM's root disk file; host resources a strategy needs only while the VM runs are released. */
    void createRootDisk(Vm vm, Path imageRootfs) {
        withRootDisk(vm, imageRootfs, disk -> null);
    }

    /**
     * Attaches the root disk of a VM that is not running for the length of {@code use} (create: to make its file;
     * promote: to read what the guest sees). As in a boot, each host resource is named in the VM's handles before
     * it is taken, so a daemon killed meanwhile leaves handles that reconcile releases; afterwards (or on failure)
     * everything recorded is released and the handles removed.
     */
    <T> T withRootDisk(Vm vm, Path imageRootfs, Function<RootDisk, T> use) {
        RootDiskHandles[] recorded = {null};
        try {
            RootDisk disk = attachRootDisk(vm, imageRootfs, acquired -> {
                try {
                    handles.put(vm.id(), handles.get(vm.id()).orElse(VmHandles.NONE).withRootDisk(acquired));
                } catch (IOException e) {
                    throw BangerException.failedPrecondition("cannot write the handles of VM '" + vm.name()
                            + "': " + e.getMessage());
                }
                recorded[0] = acquired;
            });
            recorded[0] = disk.handles();
            return use.apply(disk);
        } finally {
            releaseRootDisk(recorded[0]);
            if (recorded[0] != null) {
                handles.remove(vm.id());
            }
        }
    }

    /**
     * Makes the root disk attachable for a boot (device-mapper: loops and the snapshot device over the VM's COW
     * file); each host resource is reported to {@code acquired} as soon as it is held, for the VM's handles.
     */
    RootDisk attachRootDisk(Vm vm, Path imageRootfs, Consumer<RootDiskHandles> acquired) {
        try {
            return rootDisks.forDiskFile(vm.rootDiskPath())
                    .provision(new RootDiskRequest(vm.id(), imageRootfs, vm.vmDir()), acquired);
        } catch (RootDiskException e) {
            throw BangerException.failedPrecondition("cannot prepare the root disk of VM '" + vm.name() + "': "
                    + e.getMessage());
        }
    }

    /** Replaces the root disk of a VM that never ran with a fresh one (after a failed restore from a template). */
    void replaceRootDisk(Vm vm, Path imageRootfs) {
        try {
            java.nio.file.Files.deleteIfExists(vm.rootDiskPath());
        } catch (java.io.IOException e) {
            throw BangerException.failedPrecondition("cannot remove " + vm.rootDiskPath() + ": " + e.getMessage());
        }
        createRootDisk(vm, imageRootfs);
    }

    /** Releases what {@link #attachRootDisk} acquired; idempotent, also for half-built state. */
    void releaseRootDisk(RootDiskHandles handles) {
        if (handles != null && !handles.isEmpty()) {
            rootDisks.teardown(handles);
        }
    }

    /**
     * Creates the work disk.
     *
     * @param seed a directory whose contents become the disk's root (owners and modes kept), or null for empty
     */
    void createWorkDisk(Vm vm, Path seed) {
        // Built under a temporary name and renamed: the work disk exists complete or not at all, so a daemon
        // killed meanwhile leaves a VM whose disks are visibly incomplete (see VmLifecycle's reconcile).
        Path target = vm.workDiskPath();
        Path tmp = target.resolveSibling("." + target.getFileName() + ".tmp");
        Command mkfs = seed == null
                ? Command.of("mkfs.ext4", "-q", "-F", "-L", "banger-work", "-E", "root_owner=0:0",
                        tmp.toString(), vm.diskMib() + "M")
                : Command.of("mkfs.ext4", "-q", "-F", "-L", "banger-work", "-E", "root_owner=0:0", "-d",
                        seed.toString(), tmp.toString(), vm.diskMib() + "M");
        try {
            Files.deleteIfExists(tmp);
            run("create the work disk of VM '" + vm.name() + "'", mkfs);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw BangerException.failedPrecondition("cannot create the work disk of VM '" + vm.name() + "' ("
                    + target + "): " + e.getMessage());
        } finally {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException e) {
                // Left for the VM's delete, which removes its whole dir.
            }
        }
    }

    /** Grows the work disk file and its ext4 file system to {@code mib}, offline (the VM is stopped). */
    void growWorkDisk(Vm vm, long mib) {
        try (java.io.RandomAccessFile file = new java.io.RandomAccessFile(vm.workDiskPath().toFile(), "rw")) {
            file.setLength(mib << 20);
        } catch (java.io.IOException e) {
            throw BangerException.failedPrecondition("cannot grow " + vm.workDiskPath() + ": " + e.getMessage());
        }
        // resize2fs insists on a freshly checked file system when it works offline.
        run("check the work disk of VM '" + vm.name() + "'", Command.of("e2fsck", "-f", "-p",
                vm.workDiskPath().toString()));
        run("resize the work disk of VM '" + vm.name() + "'", Command.of("resize2fs",
                vm.workDiskPath().toString()));
    }

    boolean exist(Vm vm) {
        return Files.isRegularFile(vm.rootDiskPath()) && Files.isRegularFile(vm.workDiskPath());
    }

    private void run(String what, Command command) {
        try {
            runner.run(command.withTimeout(TIMEOUT));
        } catch (CommandFailedException e) {
            throw BangerException.failedPrecondition("cannot " + what + ": " + e.getMessage());
        }
    }
}
