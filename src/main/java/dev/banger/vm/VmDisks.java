package dev.banger.vm;

import dev.banger.api.BangerException;
import dev.banger.host.Command;
import dev.banger.host.CommandFailedException;
import dev.banger.host.CommandRunner;
import dev.banger.model.Vm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A VM's disks. Root: a qcow2 overlay over the image's read-only ext4, so creating a VM costs the same for any
 * image size. Work: a sparse ext4 file, mounted at /root by banger-init, built with {@code mkfs.ext4 -d} from a
 * seed directory when there is something to put in it.
 */
final class VmDisks {

    private static final Duration TIMEOUT = Duration.ofMinutes(5);

    private final CommandRunner runner;

    VmDisks(CommandRunner runner) {
        this.runner = runner;
    }

    void createRootOverlay(Vm vm, Path imageRootfs) {
        run("create the root disk of VM '" + vm.name() + "'", Command.of("qemu-img", "create", "-q", "-f", "qcow2",
                "-b", imageRootfs.toString(), "-F", "raw", vm.rootDiskPath().toString()));
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
