package dev.banger.testkit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A file that passes banger's kernel checks (bzImage "HdrS" magic and a version string behind the setup header's
 * pointer) but cannot boot. For tests that need kernel and VM records without booting, where importing Debian's
 * real kernel would only cost time.
 */
public final class FakeKernel {

    public static final String VERSION = "6.1.0-fake";

    private FakeKernel() {
    }

    public static Path write(Path file) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8192).order(ByteOrder.LITTLE_ENDIAN);
        b.put(0x202, (byte) 'H').put(0x203, (byte) 'd').put(0x204, (byte) 'r').put(0x205, (byte) 'S');
        int versionAt = 0x1000;
        b.putShort(0x20E, (short) (versionAt - 0x200));
        byte[] version = (VERSION + " (banger@test) #1 SMP").getBytes(StandardCharsets.US_ASCII);
        b.position(versionAt);
        b.put(version);
        Files.write(file, b.array());
        return file;
    }

    /** An ext4 image too small to be useful, made by mkfs.ext4 (registered as an image, never booted). */
    public static Path writeRootfs(Path file) throws IOException {
        try {
            Process p = new ProcessBuilder("mkfs.ext4", "-q", "-F", file.toString(), "4M")
                    .redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            if (p.waitFor() != 0) {
                throw new IOException("mkfs.ext4 failed for " + file);
            }
            return file;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }
}
