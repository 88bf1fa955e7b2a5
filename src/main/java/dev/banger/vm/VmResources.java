package dev.banger.vm;

import dev.banger.api.BangerException;

/** The limits on a VM's cpus, memory and work disk: one place for create and set. */
final class VmResources {

    static final int MAX_CPUS = 64;
    static final int MIN_MEMORY_MIB = 128;
    static final long MIN_DISK_MIB = 64;
    /** Room left on a work disk sized to fit its workspace: builds, caches, the user's own files. */
    static final long WORK_DISK_HEADROOM_MIB = 1024;

    private VmResources() {
    }

    /** @throws BangerException invalid argument naming the option and its range */
    static void requireCpusAndMemory(int cpus, int memoryMib) {
        if (cpus < 1 || cpus > MAX_CPUS) {
            throw BangerException.invalidArgument("--cpus " + cpus + " is out of range: use 1.." + MAX_CPUS);
        }
        if (memoryMib < MIN_MEMORY_MIB) {
            throw BangerException.invalidArgument("--memory " + memoryMib + "M is too small: use at least "
                    + MIN_MEMORY_MIB + "M");
        }
    }

    /** @throws BangerException invalid argument when a new work disk would be too small */
    static void requireDisk(long diskMib) {
        if (diskMib < MIN_DISK_MIB) {
            throw BangerException.invalidArgument("--disk " + diskMib + "M is too small: use at least "
                    + MIN_DISK_MIB + "M");
        }
    }
}
