package dev.banger.vm;

import dev.banger.api.BangerException;
import dev.banger.host.Command;
import dev.banger.host.CommandFailedException;
import dev.banger.host.CommandRunner;
import dev.banger.host.disk.RootDisk;
import dev.banger.host.disk.RootDiskChooser;
import dev.banger.host.disk.RootDiskException;
import dev.banger.host.disk.RootDiskRequest;
import dev.banger.model.Vm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

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

    VmDisks(CommandRunner runner) {
        this.runner = runner;
        this.rootDisks = RootDiskChooser.standard(runner);
    }

    /**
     * Creates the root disk file {@link Vm#rootDiskPath()} names, with the strategy that owns that file name. Only
     * for strategies that hold no host resources once the file exists (qcow2 overlay, copy): a dm-snapshot's
     * loops and dm device must go into the VM's handles, which this method has nowhere to put.
     */
    void createRootOverlay(Vm vm, Path imageRootfs) {
        String what = "cannot create the root disk of VM '" + vm.name() + "': ";
        try {
            RootDisk disk = rootDisks.forDiskFile(vm.rootDiskPath())
                    .provision(new RootDiskRequest(vm.id(), imageRootfs, vm.vmDir()));
            if (!disk.handles().isEmpty()) {
                rootDisks.teardown(disk.handles());
                throw new IllegalStateException(disk.handles().strategy() + " holds host resources while its VM "
                        + "runs; provision it where they can go into the VM's handles");
            }
        } catch (RootDiskException e) {
            throw BangerException.failedPrecondition(what + e.getMessage());
        }
    }

    /**
     * Creates the work disk.
     *
     * @param seed a directory whose contents become the disk's root (owners and modes kept), or null for empty
     */
    void createWorkDisk(Vm vm, Path seed) {
        Command mkfs = seed == null
                ? Command.of("mkfs.ext4", "-q", "-F", "-L", "banger-work", "-E", "root_owner=0:0",
                        vm.workDiskPath().toString(), vm.diskMib() + "M")
                : Command.of("mkfs.ext4", "-q", "-F", "-L", "banger-work", "-E", "root_owner=0:0", "-d",
                        seed.toString(), vm.workDiskPath().toString(), vm.diskMib() + "M");
        run("create the work disk of VM '" + vm.name() + "'", mkfs);
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
