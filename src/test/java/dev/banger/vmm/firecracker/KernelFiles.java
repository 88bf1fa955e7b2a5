package dev.banger.vmm.firecracker;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Stand-in kernel images: only their headers matter to the driver and the fake. */
final class KernelFiles {

    private KernelFiles() {
    }

    /** An x86-64 ELF header followed by zeros, as an uncompressed vmlinux starts. */
    static Path elf(Path file) throws IOException {
        byte[] b = new byte[4096];
        b[0] = 0x7f;
        b[1] = 'E';
        b[2] = 'L';
        b[3] = 'F';
        b[4] = 2; // 64-bit
        b[5] = 1; // little-endian
        b[18] = 62; // EM_X86_64
        return Files.write(file, b);
    }

    /** A bzImage's setup header magic "HdrS" at 0x202. */
    static Path bzImage(Path file) throws IOException {
        byte[] b = new byte[4096];
        b[0x1fe] = 0x55;
        b[0x1ff] = (byte) 0xaa;
        b[0x202] = 'H';
        b[0x203] = 'd';
        b[0x204] = 'r';
        b[0x205] = 'S';
        return Files.write(file, b);
    }

    /** A small file standing in for a disk image or an initrd. */
    static Path file(Path file) throws IOException {
        return Files.write(file, new byte[4096]);
    }
}
