package dev.banger.kernel;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the {@code .modinfo} section of an (uncompressed) ELF64 kernel module: NUL-separated {@code key=value}
 * strings such as {@code depends=virtio,virtio_ring}. Used when a modules directory has no {@code modules.dep}
 * (Debian's packages leave it to depmod at install time).
 */
final class ModinfoReader {

    /** The module's direct dependencies, canonical names, in the order the module lists them. */
    List<String> dependencies(byte[] elf, String what) {
        List<String> deps = new ArrayList<>();
        for (String entry : entries(elf, what)) {
            if (entry.startsWith("depends=")) {
                for (String dep : entry.substring("depends=".length()).split(",")) {
                    if (!dep.isBlank()) {
                        deps.add(KernelModule.canonical(dep.strip()));
                    }
                }
            }
        }
        return deps;
    }

    List<String> entries(byte[] elf, String what) {
        if (elf.length < 64 || elf[0] != 0x7f || elf[1] != 'E' || elf[2] != 'L' || elf[3] != 'F') {
            throw new KernelException("kernel module " + what + " is not an ELF file");
        }
        if (elf[4] != 2 || elf[5] != 1) {
            throw new KernelException("kernel module " + what + " is not a little-endian ELF64 file");
        }
        try {
            ByteBuffer b = ByteBuffer.wrap(elf).order(ByteOrder.LITTLE_ENDIAN);
            long shoff = b.getLong(0x28);
            int shentsize = b.getShort(0x3A) & 0xffff;
            int shnum = b.getShort(0x3C) & 0xffff;
            int shstrndx = b.getShort(0x3E) & 0xffff;
            long strOff = b.getLong(Math.toIntExact(shoff + (long) shstrndx * shentsize + 0x18));
            for (int i = 0; i < shnum; i++) {
                int sh = Math.toIntExact(shoff + (long) i * shentsize);
                int nameOff = b.getInt(sh);
                if (!".modinfo".equals(cString(elf, Math.toIntExact(strOff + nameOff)))) {
                    continue;
                }
                int off = Math.toIntExact(b.getLong(sh + 0x18));
                int size = Math.toIntExact(b.getLong(sh + 0x20));
                List<String> out = new ArrayList<>();
                int start = off;
                for (int p = off; p < off + size; p++) {
                    if (elf[p] == 0) {
                        if (p > start) {
                            out.add(new String(elf, start, p - start, StandardCharsets.UTF_8));
                        }
                        start = p + 1;
                    }
                }
                return out;
            }
        } catch (IndexOutOfBoundsException | ArithmeticException e) {
            throw new KernelException("kernel module " + what + " has a truncated or corrupt ELF section table", e);
        }
        throw new KernelException("kernel module " + what + " has no .modinfo section");
    }

    private static String cString(byte[] data, int start) {
        int end = start;
        while (data[end] != 0) {
            end++;
        }
        return new String(data, start, end - start, StandardCharsets.US_ASCII);
    }
}
