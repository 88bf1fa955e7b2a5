package dev.banger.host.disk;

import java.nio.file.Path;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * What a VM's root disk is made from and where it lives.
 *
 * @param vmId the VM's id; names its device-mapper device ({@code banger-<vmId>}), so lowercase letters, digits
 *     and dashes only
 * @param image the image's read-only raw root filesystem; never written by any strategy
 * @param vmDir the VM's directory, which must exist; the strategy's durable file is created in it
 * @param cowBytes capacity of a dm-snapshot COW file, or 0 for the default (enough for the guest to overwrite
 *     every block of the image); other strategies ignore it
 */
public record RootDiskRequest(String vmId, Path image, Path vmDir, long cowBytes) {

    private static final Pattern VM_ID = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");

    public RootDiskRequest {
        Objects.requireNonNull(vmId, "vmId");
        Objects.requireNonNull(image, "image");
        Objects.requireNonNull(vmDir, "vmDir");
        if (!VM_ID.matcher(vmId).matches()) {
            throw new IllegalArgumentException("VM id '" + vmId + "' cannot name a device-mapper device: use "
                    + "lowercase letters, digits and dashes, at most 63");
        }
        if (cowBytes < 0) {
            throw new IllegalArgumentException("COW size must be positive, or 0 for the default: " + cowBytes);
        }
        image = image.toAbsolutePath().normalize();
        vmDir = vmDir.toAbsolutePath().normalize();
    }

    public RootDiskRequest(String vmId, Path image, Path vmDir) {
        this(vmId, image, vmDir, 0);
    }
}
