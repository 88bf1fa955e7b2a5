package dev.banger.vm;

import dev.banger.vmm.VmmHandle;
import java.util.Objects;

/**
 * What is currently true about a running VM: never in SQLite, kept in {@link HandleStore}'s cache and the VM's
 * {@code handles.json}: the VMM process and the VM's tap device. (Loop devices and device-mapper names join
 * with the device-mapper root-disk strategy.)
 *
 * @param tap the tap device on the bridge, or null when the VM has no network
 */
record VmHandles(VmmHandle vmm, String tap) {

    VmHandles {
        Objects.requireNonNull(vmm, "vmm");
    }
}
