package dev.banger.host.disk;

import dev.banger.vmm.DiskSpec;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A provisioned root disk: what the VMM attaches, and what must be released when the VM stops.
 *
 * @param attachPath the file or block device the VMM opens (the overlay, the copy, or {@code /dev/mapper/...})
 * @param format how the VMM reads it
 * @param handles transient resources to persist with the VM's handles and pass to {@code teardown} later
 */
public record RootDisk(Path attachPath, DiskSpec.Format format, RootDiskHandles handles) {

    public RootDisk {
        Objects.requireNonNull(attachPath, "attachPath");
        Objects.requireNonNull(format, "format");
        Objects.requireNonNull(handles, "handles");
    }

    /** The VMM's view: attached read-write as the guest's first disk. */
    public DiskSpec toDiskSpec() {
        return new DiskSpec(attachPath, format, false, DiskSpec.Role.ROOT);
    }
}
