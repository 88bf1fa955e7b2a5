package dev.banger.model;

/** How a kernel image is laid out on disk; VMMs differ in which ones they boot. */
public enum KernelFormat {
    /** x86 boot protocol image ("HdrS" at 0x202): QEMU boots it directly; Firecracker does not. */
    BZIMAGE,
    /** Uncompressed ELF vmlinux: Firecracker's native format; QEMU needs a PVH-enabled kernel for it. */
    ELF
}
