package dev.banger.template;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;

/**
 * Everything a guest restored from a template must share with it (docs/snapshots.md): the VMM and its build, the
 * image's root filesystem, the kernel, the initramfs (banger-init's build and the kernel's modules), cpus, memory
 * and the work disk's size. Files are named by the SHA-256 of their contents, so a file replaced under the same name
 * makes a new key. {@link #id()} is the SHA-256 of all of it: equal ids, interchangeable templates.
 *
 * @param vmm the VMM's wire name
 * @param vmmBuild what identifies the VMM's build and how it runs guests (QEMU: its binary's digest and the
 *     accelerator), from {@code VmmDriver.snapshotCompatibility()}
 * @param image the image's name (for listings and pruning; its digest decides)
 * @param rootfsDigest sha256 of the image's root filesystem file
 * @param kernel the kernel's name
 * @param kernelDigest sha256 of the file the VMM boots
 * @param initrdDigest sha256 of the initramfs
 * @param cpus virtual CPUs
 * @param memoryMib guest memory
 * @param workDiskMib the work disk's size (the guest reads a disk's size once, when it boots)
 */
public record TemplateKey(String vmm, String vmmBuild, String image, String rootfsDigest, String kernel,
                          String kernelDigest, String initrdDigest, int cpus, int memoryMib, long workDiskMib) {

    /** Bumped whenever what a template holds, or how it is captured, changes. */
    public static final int FORMAT = 1;

    public TemplateKey {
        Objects.requireNonNull(vmm, "vmm");
        Objects.requireNonNull(vmmBuild, "vmmBuild");
        Objects.requireNonNull(image, "image");
        Objects.requireNonNull(rootfsDigest, "rootfsDigest");
        Objects.requireNonNull(kernel, "kernel");
        Objects.requireNonNull(kernelDigest, "kernelDigest");
        Objects.requireNonNull(initrdDigest, "initrdDigest");
    }

    /** The template's id: 64 hex digits over every field and {@link #FORMAT}. */
    public String id() {
        String canonical = String.join("\n", "format=" + FORMAT, "vmm=" + vmm, "vmm-build=" + vmmBuild,
                "image=" + image, "rootfs=" + rootfsDigest, "kernel=" + kernel, "kernel-file=" + kernelDigest,
                "initrd=" + initrdDigest, "cpus=" + cpus, "memory-mib=" + memoryMib, "work-disk-mib=" + workDiskMib);
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(canonical.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * What a template is for, whatever the file contents: image, kernel, VMM, sizes. At most one template per slot
     * is kept; a new one replaces an older one of the same slot.
     */
    public String slot() {
        return vmm + "/" + image + "/" + kernel + "/" + cpus + "cpu/" + memoryMib + "M/" + workDiskMib + "M";
    }
}
