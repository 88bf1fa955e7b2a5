package dev.banger.testkit;

import com.github.luben.zstd.ZstdOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;
import org.tukaani.xz.LZMA2Options;
import org.tukaani.xz.XZOutputStream;

/**
 * A file shaped like a bzImage that cannot boot: "HdrS" magic, a version string behind the setup header's pointer,
 * and a compressed payload (found through payload_offset/payload_length, followed by its size as the kernel build
 * appends it) holding a tiny "ELF" with the {@code Linux version} banner and, optionally, an embedded config
 * between {@code IKCFG_ST} and {@code IKCFG_ED} as CONFIG_IKCONFIG lays it out. For tests that need kernel and VM
 * records without booting, where importing Debian's real kernel would only cost time.
 */
public final class FakeKernel {

    public static final String VERSION = "6.1.0-fake";
    /** What a kernel that boots without modules has built in. */
    public static final String BUILT_IN_VIRTIO = """
            CONFIG_IKCONFIG=y
            CONFIG_VIRTIO_MMIO=y
            CONFIG_VIRTIO_BLK=y
            CONFIG_VIRTIO_CONSOLE=y
            CONFIG_VIRTIO_NET=y
            """;
    /** A distribution-style config: virtio as modules. */
    public static final String MODULAR_VIRTIO = """
            CONFIG_IKCONFIG=y
            CONFIG_VIRTIO_PCI=m
            CONFIG_VIRTIO_BLK=m
            # CONFIG_VIRTIO_CONSOLE is not set
            """;

    /** Payload compressions the fake can be built with. */
    public enum Compression { GZIP, XZ, ZSTD, LZ4 }

    private static final int SETUP_SECTS = 15;

    private FakeKernel() {
    }

    /** A gzip bzImage with virtio built in (importable without modules). */
    public static Path write(Path file) throws IOException {
        return write(file, BUILT_IN_VIRTIO, Compression.GZIP);
    }

    /**
     * @param config the embedded .config text, or null for a kernel built without CONFIG_IKCONFIG
     */
    public static Path write(Path file, String config, Compression compression) throws IOException {
        byte[] payload = compress(vmlinux(config), compression);
        int payloadOffset = 0x40;
        int protectedMode = (SETUP_SECTS + 1) * 512;
        ByteBuffer b = ByteBuffer.allocate(protectedMode + payloadOffset + payload.length + 4 + 64)
                .order(ByteOrder.LITTLE_ENDIAN);
        b.put(0x1F1, (byte) SETUP_SECTS);
        b.put(0x202, (byte) 'H').put(0x203, (byte) 'd').put(0x204, (byte) 'r').put(0x205, (byte) 'S');
        b.putShort(0x206, (short) 0x020F);
        int versionAt = 0x1000;
        b.putShort(0x20E, (short) (versionAt - 0x200));
        b.putInt(0x248, payloadOffset);
        b.putInt(0x24C, payload.length + 4);
        b.position(versionAt);
        b.put((VERSION + " (banger@test) #1 SMP").getBytes(StandardCharsets.US_ASCII));
        b.position(protectedMode + payloadOffset);
        b.put(payload);
        b.putInt(vmlinux(config).length);
        Files.write(file, b.array());
        return file;
    }

    /** The ELF the payload holds: what a correct extraction gives back, byte for byte. */
    public static byte[] vmlinux(String config) throws IOException {
        ByteArrayOutputStream elf = new ByteArrayOutputStream();
        elf.write(new byte[] {0x7f, 'E', 'L', 'F', 2, 1, 1, 0});
        elf.write(new byte[56]);
        elf.write(("Linux version " + VERSION + " (banger@test) (gcc) #1 SMP\0").getBytes(StandardCharsets.US_ASCII));
        if (config != null) {
            elf.write("IKCFG_ST".getBytes(StandardCharsets.US_ASCII));
            elf.write(compress(config.getBytes(StandardCharsets.US_ASCII), Compression.GZIP));
            elf.write("IKCFG_ED".getBytes(StandardCharsets.US_ASCII));
        }
        elf.write(new byte[4096]);
        return elf.toByteArray();
    }

    private static byte[] compress(byte[] data, Compression compression) throws IOException {
        if (compression == Compression.LZ4) {
            return lz4Legacy(data);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (OutputStream c = switch (compression) {
            case GZIP -> new GZIPOutputStream(out);
            case XZ -> new XZOutputStream(out, new LZMA2Options());
            case ZSTD -> new ZstdOutputStream(out);
            case LZ4 -> throw new IllegalStateException();
        }) {
            c.write(data);
        }
        return out.toByteArray();
    }

    /** As the kernel build makes it: the lz4 program's legacy format ({@code lz4 -l}). */
    private static byte[] lz4Legacy(byte[] data) throws IOException {
        Path in = Files.createTempFile("fake-kernel-", ".bin");
        try {
            Files.write(in, data);
            Process p = new ProcessBuilder("lz4", "-l", "-9", "-c", "-q", in.toString())
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (p.waitFor() != 0) {
                throw new IOException("lz4 -l failed");
            }
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        } finally {
            Files.deleteIfExists(in);
        }
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
