package dev.banger.kernel;

import dev.banger.model.KernelSource;
import java.nio.file.Path;

/**
 * A Debian linux-image package unpacked on disk.
 *
 * @param version the kernel release (the {@code <ver>} in {@code boot/vmlinuz-<ver>})
 * @param kernel {@code boot/vmlinuz-<ver>}
 * @param modulesDir {@code lib/modules/<ver>} (or {@code usr/lib/modules/<ver>} in merged-/usr packages)
 * @param reference package name and version for {@link KernelSource}
 */
record DebianKernelPackage(String version, Path kernel, Path modulesDir, String reference) {
}
