package dev.banger.kernel;

import com.github.luben.zstd.ZstdInputStream;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.GZIPInputStream;
import org.tukaani.xz.SingleXZInputStream;

/**
 * Unpacks the ELF vmlinux a bzImage carries, for VMMs that boot only ELF kernels (Firecracker on x86_64).
 *
 * <p>The x86 boot protocol (2.08+) says where: the protected-mode part starts after {@code setup_sects + 1}
 * 512-byte sectors ({@code setup_sects} at 0x1F1; 0 means 4), and the setup header's {@code payload_offset}
 * (0x248) and {@code payload_length} (0x24C) locate the compressed payload inside it. The payload is the
 * kernel's {@code vmlinux.bin} (an ELF) compressed with the format the kernel was built with (Debian's cloud
 * kernels use lz4; gzip, xz and zstd are common elsewhere), followed by its
 * uncompressed size as 4 little-endian bytes (the kernel build's {@code size_append}); that size is checked.
 */
final class VmlinuxExtractor {

    private static final int SETUP_SECTS = 0x1F1;
    private static final int PROTOCOL_VERSION = 0x206;
    private static final int PAYLOAD_OFFSET = 0x248;
    private static final int PAYLOAD_LENGTH = 0x24C;
    private static final int MIN_PROTOCOL = 0x208;
    private static final byte[] ELF_MAGIC = {0x7f, 'E', 'L', 'F'};
    /** Above any real kernel; a payload claiming more is corrupt, not a kernel worth filling the disk for. */
    private static final long MAX_VMLINUX_BYTES = 1L << 30;

    /** How a bzImage payload is compressed, by its magic bytes. */
    enum Compression {
        GZIP(true), XZ(true), ZSTD(true), LZ4(true), LZMA(false), BZIP2(false), LZO(false);

        final boolean supported;

        Compression(boolean supported) {
            this.supported = supported;
        }

        static Compression of(byte[] m) {
            if (m.length >= 2 && (m[0] & 0xff) == 0x1f && (m[1] & 0xff) == 0x8b) {
                return GZIP;
            }
            if (m.length >= 6 && (m[0] & 0xff) == 0xfd && m[1] == '7' && m[2] == 'z' && m[3] == 'X' && m[4] == 'Z'
                    && m[5] == 0) {
                return XZ;
            }
            if (m.length >= 4 && (m[0] & 0xff) == 0x28 && (m[1] & 0xff) == 0xb5 && (m[2] & 0xff) == 0x2f
                    && (m[3] & 0xff) == 0xfd) {
                return ZSTD;
            }
            if (m.length >= 4 && m[0] == 0x02 && m[1] == 0x21 && m[2] == 0x4c && m[3] == 0x18) {
                return LZ4;
            }
            if (m.length >= 3 && m[0] == 'B' && m[1] == 'Z' && m[2] == 'h') {
                return BZIP2;
            }
            if (m.length >= 3 && m[0] == 0x5d && m[1] == 0 && m[2] == 0) {
                return LZMA;
            }
            if (m.length >= 4 && (m[0] & 0xff) == 0x89 && m[1] == 'L' && m[2] == 'Z' && m[3] == 'O') {
                return LZO;
            }
            return null;
        }
    }

    /** Where the payload is and how it is compressed. */
    record Payload(long offset, long length, Compression compression) {
    }

    /** The bzImage's compression cannot be unpacked here: the import goes on without a vmlinux. */
    static final class UnsupportedPayloadException extends KernelException {
        UnsupportedPayloadException(String message) {
            super(message);
        }
    }

    /** Locates the payload of {@code bzImage}; fails when the header has none or its format is unknown. */
    Payload payload(Path bzImage) {
        try (FileChannel ch = FileChannel.open(bzImage, StandardOpenOption.READ)) {
            ByteBuffer head = ByteBuffer.allocate(0x250).order(ByteOrder.LITTLE_ENDIAN);
            while (head.hasRemaining() && ch.read(head) > 0) {
                // fill
            }
            if (head.position() < 0x250) {
                throw new KernelException(bzImage + " is too short to be a bzImage");
            }
            int protocol = head.getShort(PROTOCOL_VERSION) & 0xffff;
            if (protocol < MIN_PROTOCOL) {
                throw new UnsupportedPayloadException(bzImage + " uses boot protocol " + Integer.toHexString(protocol)
                        + ", older than 2.08, so it does not say where its payload is; import its vmlinux instead");
            }
            int setupSects = head.get(SETUP_SECTS) & 0xff;
            long protectedMode = (long) ((setupSects == 0 ? 4 : setupSects) + 1) * 512;
            long offset = protectedMode + (head.getInt(PAYLOAD_OFFSET) & 0xffffffffL);
            long length = head.getInt(PAYLOAD_LENGTH) & 0xffffffffL;
            if (length < 8 || offset + length > ch.size()) {
                throw new KernelException(bzImage + " is not a complete bzImage: its setup header puts the payload at "
                        + offset + ".." + (offset + length) + " in a file of " + ch.size() + " bytes");
            }
            ByteBuffer magic = ByteBuffer.allocate(6);
            ch.read(magic, offset);
            Compression compression = Compression.of(magic.array());
            if (compression == null) {
                throw new UnsupportedPayloadException("the payload of " + bzImage
                        + " is in no compression format banger knows (gzip, xz, zstd, lz4, lzma, bzip2, lzo)");
            }
            return new Payload(offset, length, compression);
        } catch (IOException e) {
            throw new KernelException("cannot read kernel image " + bzImage + ": " + e.getMessage(), e);
        }
    }

    /**
     * Writes the ELF vmlinux inside {@code bzImage} to {@code out} (created; removed again on failure).
     *
     * @throws UnsupportedPayloadException when the payload's compression is one banger does not unpack (lzma,
     *     bzip2, lzo): the kernel is fine, only no vmlinux can be made from it here
     * @throws KernelException when the payload is corrupt or is not an ELF
     */
    Payload extract(Path bzImage, Path out) {
        Payload payload = payload(bzImage);
        if (!payload.compression().supported) {
            throw new UnsupportedPayloadException("the payload of " + bzImage + " is "
                    + payload.compression().name().toLowerCase(java.util.Locale.ROOT)
                    + "-compressed, which banger does not unpack (gzip, xz, zstd and lz4 are); extract the vmlinux "
                    + "yourself (the kernel tree's scripts/extract-vmlinux) and import that");
        }
        long expected;
        try (FileChannel ch = FileChannel.open(bzImage, StandardOpenOption.READ)) {
            ByteBuffer size = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(size, payload.offset() + payload.length() - 4);
            expected = size.getInt(0) & 0xffffffffL;
        } catch (IOException e) {
            throw new KernelException("cannot read kernel image " + bzImage + ": " + e.getMessage(), e);
        }
        long written = 0;
        boolean done = false;
        try (InputStream raw = new BufferedInputStream(new BoundedInput(bzImage, payload.offset(),
                payload.length() - 4), 1 << 16);
             InputStream in = decompressor(payload.compression(), raw);
             OutputStream o = Files.newOutputStream(out, StandardOpenOption.CREATE_NEW)) {
            byte[] buf = new byte[1 << 16];
            int n = in.readNBytes(buf, 0, ELF_MAGIC.length);
            if (n < ELF_MAGIC.length || buf[0] != ELF_MAGIC[0] || buf[1] != ELF_MAGIC[1] || buf[2] != ELF_MAGIC[2]
                    || buf[3] != ELF_MAGIC[3]) {
                throw new KernelException("the payload of " + bzImage + " is not an ELF vmlinux");
            }
            do {
                written += n;
                if (written > MAX_VMLINUX_BYTES) {
                    throw new KernelException("the payload of " + bzImage + " unpacks to more than "
                            + (MAX_VMLINUX_BYTES >> 20) + " MiB; it is not a kernel");
                }
                o.write(buf, 0, n);
            } while ((n = in.read(buf)) > 0);
            if (written != expected) {
                throw new KernelException("the payload of " + bzImage + " unpacked to " + written
                        + " bytes but the image says " + expected + "; the file is corrupt");
            }
            done = true;
            return payload;
        } catch (IOException e) {
            throw new KernelException("cannot unpack the " + payload.compression().name().toLowerCase(
                    java.util.Locale.ROOT) + " payload of " + bzImage + ": " + e.getMessage(), e);
        } finally {
            if (!done) {
                try {
                    Files.deleteIfExists(out);
                } catch (IOException ignored) {
                    // The caller's work directory is removed as a whole.
                }
            }
        }
    }

    private static InputStream decompressor(Compression compression, InputStream raw) throws IOException {
        return switch (compression) {
            case GZIP -> new GZIPInputStream(raw, 1 << 16);
            case XZ -> new SingleXZInputStream(raw);
            case ZSTD -> new ZstdInputStream(raw);
            case LZ4 -> new Lz4LegacyInputStream(raw);
            default -> throw new IllegalStateException("unsupported " + compression);
        };
    }

    /** A byte range of a file as a stream, so the trailing size and what follows never reach the decoder. */
    private static final class BoundedInput extends InputStream {
        private final FileChannel channel;
        private long position;
        private final long end;

        BoundedInput(Path file, long offset, long length) throws IOException {
            this.channel = FileChannel.open(file, StandardOpenOption.READ);
            this.position = offset;
            this.end = offset + length;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) == 1 ? one[0] & 0xff : -1;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (position >= end) {
                return -1;
            }
            int n = channel.read(ByteBuffer.wrap(b, off, (int) Math.min(len, end - position)), position);
            if (n > 0) {
                position += n;
            }
            return n;
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }
}
