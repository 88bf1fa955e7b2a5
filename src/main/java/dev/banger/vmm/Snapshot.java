package dev.banger.vmm;

import java.nio.file.Path;
import java.util.Objects;

/**
 * The files of a captured guest (docs/snapshots.md): its RAM and its device state (CPU registers, device queues,
 * the VMM's own state). QEMU keeps the RAM in {@code memory} from the boot on (a shared file mapping) and writes only
 * the device state at capture; Firecracker writes both at capture. A restore maps {@code memory} privately,
 * copy-on-write, so no clone ever writes it.
 *
 * @param memory the guest's RAM, byte for byte
 * @param deviceState the VMM's migration stream (QEMU) or snapshot file (Firecracker)
 */
public record Snapshot(Path memory, Path deviceState) {

    public Snapshot {
        Objects.requireNonNull(memory, "memory");
        Objects.requireNonNull(deviceState, "deviceState");
    }
}
