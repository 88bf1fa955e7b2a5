package dev.banger.model;

import java.nio.file.Path;
import java.time.Instant;

/**
 * A guest kernel banger can boot.
 *
 * @param version the kernel release (uname -r in the guest)
 * @param source where it came from ("apt:linux-image-...", "import:PATH")
 * @param kernelPath the vmlinux or bzImage
 * @param modulesDir the kernel's {@code lib/modules/VERSION} tree, or null when virtio is built in
 * @param isDefault whether VMs created without {@code --kernel} use it
 */
public record Kernel(
        String name,
        String version,
        String source,
        Path kernelPath,
        Path modulesDir,
        boolean isDefault,
        Instant createdAt) {
}
