package dev.banger.image.bundle;

import java.util.List;

/**
 * The entries an image bundle may hold, in the order {@link BundleWriter} writes them: a zstd-compressed POSIX tar
 * of regular files with these fixed names, {@link #MANIFEST} last. The names are fixed so a reader never builds a
 * path from the archive: anything else is refused.
 */
public final class BundleLayout {

    public static final String ROOTFS = "rootfs.ext4";
    public static final String KERNEL = "kernel/kernel";
    public static final String VMLINUX = "kernel/vmlinux";
    public static final String KERNEL_INITRAMFS = "kernel/modules-initramfs.cpio.gz";
    public static final String MANIFEST = "manifest.json";
    /** Every entry but the manifest. */
    public static final List<String> FILES = List.of(ROOTFS, KERNEL, VMLINUX, KERNEL_INITRAMFS);
    /** The largest manifest a reader accepts. */
    static final int MAX_MANIFEST_BYTES = 1 << 20;

    private BundleLayout() {
    }
}
