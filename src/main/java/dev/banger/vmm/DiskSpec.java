package dev.banger.vmm;

import java.nio.file.Path;
import java.util.Objects;

/**
 * One virtio block device, attached in list order (the first is {@code /dev/vda} in the guest).
 *
 * @param path the image file on the host
 * @param format its format; Firecracker takes only raw
 * @param readOnly attach read-only
 * @param role what the guest uses it for
 */
public record DiskSpec(Path path, Format format, boolean readOnly, Role role) {

    public enum Format { RAW, QCOW2 }

    public enum Role { ROOT, WORK }

    public DiskSpec {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(format, "format");
        Objects.requireNonNull(role, "role");
    }
}
