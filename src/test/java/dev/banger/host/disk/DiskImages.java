package dev.banger.host.disk;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;

/** Sparse base images with recognisable content, and their checksums. */
final class DiskImages {

    private DiskImages() {
    }

    /** A sparse file of {@code bytes} whose first 4 KiB are 0x11, so a write through an overlay would show. */
    static Path sparseImage(Path file, long bytes) throws IOException {
        Files.createDirectories(file.getParent());
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(bytes);
            byte[] block = new byte[4096];
            Arrays.fill(block, (byte) 0x11);
            f.write(block);
        }
        return file;
    }

    static String sha256(Path file) throws IOException {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            try (var in = Files.newInputStream(file)) {
                byte[] buffer = new byte[1 << 16];
                for (int n; (n = in.read(buffer)) > 0; ) {
                    digest.update(buffer, 0, n);
                }
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    static byte[] firstBlock(Path file) throws IOException {
        byte[] block = new byte[4096];
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            f.readFully(block);
        }
        return block;
    }
}
