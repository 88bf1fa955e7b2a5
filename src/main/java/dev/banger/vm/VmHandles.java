package dev.banger.vm;

import dev.banger.vmm.VmmHandle;
import dev.banger.host.disk.RootDiskHandles;

/**
 * What is currently true about a running (or booting) VM: never in SQLite, kept in {@link HandleStore}'s cache
 * and the VM's {@code handles.json}, written as each resource is acquired so that a crash at any step leaves
 * enough behind for reconcile to release it.
 *
 * @param vmm the VMM process, or null while the VM is still being prepared
 * @param tap the tap device on the bridge, or null before it exists
 * @param rootDisk host resources of the root disk (device-mapper: loops and the snapshot device), or null
 * @param start how the VM started this time ("booting (3.41 s to ready)", "restoring from template ... (0.52 s to
 *     ready)"), or null until it is ready
 */
record VmHandles(VmmHandle vmm, String tap, RootDiskHandles rootDisk, String start) {

    static final VmHandles NONE = new VmHandles(null, null, null, null);

    VmHandles withVmm(VmmHandle value) {
        return new VmHandles(value, tap, rootDisk, start);
    }

    VmHandles withTap(String value) {
        return new VmHandles(vmm, value, rootDisk, start);
    }

    VmHandles withRootDisk(RootDiskHandles value) {
        return new VmHandles(vmm, tap, value, start);
    }

    VmHandles withStart(String value) {
        return new VmHandles(vmm, tap, rootDisk, value);
    }
}
