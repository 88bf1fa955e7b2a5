package dev.banger.api;

import java.util.List;

/**
 * A kernel as the CLI shows it, with the VMs that use it.
 *
 * @param format "bzimage" or "elf"
 * @param source where it came from, e.g. "apt linux-image-6.1.0-56-cloud-amd64 6.1.192-2"
 * @param vmlinuxPath the ELF unpacked from a bzImage (what Firecracker boots), or null
 * @param modules the kernel modules its initramfs loads, in load order
 */
public record KernelView(String name, String version, String format, String source, String kernelPath,
                         String vmlinuxPath, List<String> modules, boolean isDefault, String createdAt, List<String> usedBy) {
}
