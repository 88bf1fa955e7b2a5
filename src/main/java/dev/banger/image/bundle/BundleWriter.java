package dev.banger.image.bundle;

import com.github.luben.zstd.ZstdOutputStream;
import dev.banger.json.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * Writes an image bundle ({@link BundleLayout}): each file once, hashed as it streams, then the manifest with the
 * sizes and digests. One pass over the files, so exporting costs one read of the root disk.
 */
public final class BundleWriter {

    /** zstd's default: fast, and a root disk's empty space (zeros) costs next to nothing. */
    private static final int ZSTD_LEVEL = 3;
    private static final int BUFFER = 1 << 16;

    /** Sees the bytes of each file as they are written. */
    @FunctionalInterface
    public interface Progress {
        void file(String path, long done, long total);
    }

    private BundleWriter() {
    }

    /**
     * Writes the bundle to {@code out} and closes it.
     *
     * @param files entry name ({@link BundleLayout#FILES}) → file, in {@link BundleLayout#FILES} order
     * @return the manifest written last
     */
    public static BundleManifest write(BundleManifest.ImageEntry image, BundleManifest.KernelEntry kernel,
                                       Map<String, Path> files, OutputStream out, Instant now, Progress progress)
            throws IOException {
        List<BundleManifest.FileEntry> entries = new ArrayList<>();
        try (ZstdOutputStream zstd = new ZstdOutputStream(out, ZSTD_LEVEL);
             TarArchiveOutputStream tar = new TarArchiveOutputStream(zstd, BUFFER)) {
            tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (String path : BundleLayout.FILES) {
                Path file = files.get(path);
                if (file != null) {
                    entries.add(writeFile(tar, path, file, now, progress));
                }
            }
            BundleManifest manifest = new BundleManifest(BundleManifest.FORMAT, BundleManifest.VERSION,
                    now.toString(), image, kernel, entries);
            byte[] json = Json.writePretty(manifest).getBytes(java.nio.charset.StandardCharsets.UTF_8);
            TarArchiveEntry entry = entry(BundleLayout.MANIFEST, json.length, now);
            tar.putArchiveEntry(entry);
            tar.write(json);
            tar.closeArchiveEntry();
            tar.finish();
            return manifest;
        }
    }

    private static BundleManifest.FileEntry writeFile(TarArchiveOutputStream tar, String path, Path file, Instant now,
                                                      Progress progress) throws IOException {
        long size = Files.size(file);
        MessageDigest sha256 = sha256();
        tar.putArchiveEntry(entry(path, size, now));
        long done = 0;
        try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
            byte[] buf = new byte[BUFFER];
            while (done < size) {
                int n = in.read(buf, 0, (int) Math.min(buf.length, size - done));
                if (n < 0) {
                    throw new BundleException(file + " shrank to " + done + " bytes while it was being exported");
                }
                sha256.update(buf, 0, n);
                tar.write(buf, 0, n);
                done += n;
                progress.file(path, done, size);
            }
        }
        tar.closeArchiveEntry();
        return new BundleManifest.FileEntry(path, size, HexFormat.of().formatHex(sha256.digest()));
    }

    private static TarArchiveEntry entry(String name, long size, Instant now) {
        TarArchiveEntry entry = new TarArchiveEntry(name);
        entry.setSize(size);
        entry.setMode(0100644);
        entry.setModTime(now.toEpochMilli());
        return entry;
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
