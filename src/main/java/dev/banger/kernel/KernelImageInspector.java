package dev.banger.kernel;

import dev.banger.model.KernelFormat;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Recognises a kernel image and reads its release string. A bzImage carries it behind the setup header's
 * {@code kernel_version} pointer (offset 0x20E, relative to 0x200); an ELF vmlinux carries the
 * {@code "Linux version <release> "} banner somewhere in its data.
 */
final class KernelImageInspector {

    private static final int HDRS_OFFSET = 0x202;
    private static final int KERNEL_VERSION_PTR = 0x20E;
    private static final int SETUP_BASE = 0x200;
    private static final byte[] ELF_MAGIC = {0x7f, 'E', 'L', 'F'};
    private static final byte[] BANNER = "Linux version ".getBytes(StandardCharsets.US_ASCII);

    KernelImage inspect(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new NotAKernelException("kernel image " + file + " does not exist or is not a regular file");
        }
        byte[] head = readHead(file, 64 * 1024);
        if (head.length >= HDRS_OFFSET + 4 && head[HDRS_OFFSET] == 'H' && head[HDRS_OFFSET + 1] == 'd'
                && head[HDRS_OFFSET + 2] == 'r' && head[HDRS_OFFSET + 3] == 'S') {
            return new KernelImage(KernelFormat.BZIMAGE, bzImageVersion(head));
        }
        if (head.length >= 4 && head[0] == ELF_MAGIC[0] && head[1] == ELF_MAGIC[1] && head[2] == ELF_MAGIC[2]
                && head[3] == ELF_MAGIC[3]) {
            return new KernelImage(KernelFormat.ELF, elfVersion(file));
        }
        throw new NotAKernelException("not a Linux kernel image: " + file
                + " (expected bzImage magic \"HdrS\" at offset 0x202 or an ELF header; found neither)");
    }

    private static Optional<String> bzImageVersion(byte[] head) {
        int ptr = ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN).getShort(KERNEL_VERSION_PTR) & 0xffff;
        if (ptr == 0) {
            return Optional.empty();
        }
        int start = ptr + SETUP_BASE;
        return firstToken(head, start, head.length);
    }

    private static Optional<String> elfVersion(Path file) {
        // Scanned in chunks with an overlap so a banner split across two reads is still seen; vmlinux files with
        // debug info run to hundreds of MiB.
        int overlap = 256;
        byte[] buf = new byte[1 << 20];
        try (InputStream in = Files.newInputStream(file)) {
            int filled = 0;
            while (true) {
                int n = in.readNBytes(buf, filled, buf.length - filled);
                int limit = filled + n;
                boolean last = n == 0 || limit < buf.length;
                for (int i = indexOf(buf, 0, limit); i >= 0; i = indexOf(buf, i + 1, limit)) {
                    if (!last && i >= limit - overlap) {
                        break; // seen again, whole, at the start of the next chunk
                    }
                    Optional<String> token = firstToken(buf, i + BANNER.length, limit);
                    // The format string "Linux version %s" can appear too; a real release starts with a digit.
                    if (token.isPresent() && Character.isDigit(token.get().charAt(0))) {
                        return token;
                    }
                }
                if (last) {
                    return Optional.empty();
                }
                System.arraycopy(buf, limit - overlap, buf, 0, overlap);
                filled = overlap;
            }
        } catch (IOException e) {
            throw new KernelException("cannot read kernel image " + file + ": " + e.getMessage(), e);
        }
    }

    private static int indexOf(byte[] data, int from, int limit) {
        outer:
        for (int i = from; i + BANNER.length <= limit; i++) {
            for (int j = 0; j < BANNER.length; j++) {
                if (data[i + j] != BANNER[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private static Optional<String> firstToken(byte[] data, int start, int limit) {
        if (start < 0 || start >= limit) {
            return Optional.empty();
        }
        int end = start;
        while (end < limit && data[end] > ' ' && data[end] < 0x7f) {
            end++;
        }
        return end == start ? Optional.empty()
                : Optional.of(new String(data, start, end - start, StandardCharsets.US_ASCII));
    }

    private static byte[] readHead(Path file, int max) {
        try (InputStream in = Files.newInputStream(file)) {
            return in.readNBytes(max);
        } catch (IOException e) {
            throw new KernelException("cannot read kernel image " + file + ": " + e.getMessage(), e);
        }
    }
}
