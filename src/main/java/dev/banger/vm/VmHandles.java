package dev.banger.vm;

import dev.banger.vmm.VmmHandle;
import java.util.Objects;

/**
 * What is currently true about a running VM: never in SQLite, kept in {@link HandleStore}'s cache and the VM's
 * {@code handles.json}. Today that is the VMM process; taps, loop devices and device-mapper names join it with
 * networking and copy-on-write strategies.
 */
record VmHandles(VmmHandle vmm) {

    VmHandles {
        Objects.requireNonNull(vmm, "vmm");
    }
}
