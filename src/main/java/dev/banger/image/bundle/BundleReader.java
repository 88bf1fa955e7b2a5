package dev.banger.image.bundle;

import com.github.luben.zstd.ZstdInputStream;
import dev.banger.json.Json;
import dev.banger.json.JsonException;
import dev.banger.model.KernelFormat;
import dev.banger.model.KernelSource;
import dev.banger.model.Names;
import dev.banger.util.Files2;
import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * Reads an image bundle into a directory and verifies it before anyone uses it. The archive is untrusted: only
 * regular files with the fixed names of {@link BundleLayout} are accepted (so no path is ever built from it), each
 * at most once, the manifest last; every file's size and SHA-256 must match the manifest, which must list exactly
 * the files present. The whole stream is read to its end, so a bundle cut short anywhere is refused. Files are
 * written sparse (blocks of zeros are skipped), as the root disks they carry were.
 *
 * <p>On a refusal the caller removes the directory; nothing outside it is ever written.
 */
public final class BundleReader {

    private static final int BUFFER = 1 << 16;
    private static final int BLOCK = 4096;
    private static final byte[] ZEROS = new byte[BLOCK];
    private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-f]{64}");
    /** No image or kernel file is this large; a header claiming more is refused before anything is written. */
    static final long MAX_FILE_BYTES = 1L << 40;

    /** A verified bundle: its manifest and where each of its files now is. */
    public record Verified(BundleManifest manifest, Map<String, Path> files) {

        public Path file(String entry) {
            return files.get(entry);
        }
    }

    private BundleReader() {
    }

    /**
     * Reads {@code bundle} (not closed) into {@code dir}, an empty directory.
     *
     * @throws BundleException naming what is wrong, when the bundle is refused
     * @throws IOException when {@code dir} cannot be written
     */
    public static Verified read(InputStream bundle, Path dir) throws IOException {
        BufferedInputStream in = new BufferedInputStream(bundle, BUFFER);
        in.mark(4);
        byte[] magic = in.readNBytes(4);
        in.reset();
        if (magic.length < 4 || (magic[0] & 0xff) != 0x28 || (magic[1] & 0xff) != 0xb5 || (magic[2] & 0xff) != 0x2f
                || (magic[3] & 0xff) != 0xfd) {
            throw new BundleException("not an image bundle: it is not zstd-compressed (bundles are made by "
                    + "banger image export)");
        }
        Map<String, Path> files = new LinkedHashMap<>();
        Map<String, String> digests = new LinkedHashMap<>();
        byte[] manifestJson = null;
        try {
            ZstdInputStream zstd = new ZstdInputStream(in);
            TarArchiveInputStream tar = new TarArchiveInputStream(zstd, BUFFER);
            TarArchiveEntry entry;
            while ((entry = tar.getNextEntry()) != null) {
                String name = entry.getName();
                if (manifestJson != null) {
                    throw new BundleException("entry '" + name + "' follows " + BundleLayout.MANIFEST
                            + ", which must be the bundle's last entry");
                }
                requireKnownName(name, "entry");
                if (!isRegularFile(entry)) {
                    throw new BundleException("entry '" + name + "' is not a regular file; refusing the bundle");
                }
                if (files.containsKey(name)) {
                    throw new BundleException("entry '" + name + "' appears twice; refusing the bundle");
                }
                if (name.equals(BundleLayout.MANIFEST)) {
                    if (entry.getSize() > BundleLayout.MAX_MANIFEST_BYTES) {
                        throw new BundleException(BundleLayout.MANIFEST + " is " + entry.getSize()
                                + " bytes; refusing it");
                    }
                    manifestJson = tar.readNBytes((int) entry.getSize());
                    if (manifestJson.length != entry.getSize()) {
                        throw new EOFException(BundleLayout.MANIFEST + " ends early");
                    }
                    continue;
                }
                if (entry.getSize() > MAX_FILE_BYTES) {
                    throw new BundleException("entry '" + name + "' claims " + entry.getSize() + " bytes; refusing "
                            + "the bundle");
                }
                Path target = dir.resolve(name);
                writing(() -> Files.createDirectories(target.getParent()));
                digests.put(name, writeSparse(tar, target, entry.getSize(), name));
                files.put(name, target);
            }
            // The tar's end blocks, then the end of the zstd frame: a bundle cut in its last bytes is refused too.
            zstd.transferTo(OutputStream.nullOutputStream());
            if (in.read() != -1) {
                throw new BundleException("the bundle has data after its end; refusing it");
            }
        } catch (WriteFailure e) {
            throw e.io;
        } catch (IOException e) {
            throw new BundleException("the bundle is truncated or corrupt: " + Files2.describe(e), e);
        }
        if (manifestJson == null) {
            throw new BundleException("the bundle has no " + BundleLayout.MANIFEST + ": it is truncated, or not an "
                    + "image bundle");
        }
        BundleManifest manifest;
        try {
            manifest = Json.read(manifestJson, BundleManifest.class);
        } catch (JsonException e) {
            throw new BundleException(BundleLayout.MANIFEST + " is not valid: " + e.getMessage(), e);
        }
        verify(manifest, files, digests);
        return new Verified(manifest, Map.copyOf(files));
    }

    private static boolean isRegularFile(TarArchiveEntry entry) {
        byte flag = entry.getLinkFlag();
        return (flag == TarConstants.LF_NORMAL || flag == TarConstants.LF_OLDNORM) && !entry.isSparse()
                && !entry.getName().endsWith("/");
    }

    private static void requireKnownName(String name, String what) {
        if (name.startsWith("/") || name.contains("\\") || Arrays.asList(name.split("/")).contains("..")) {
            throw new BundleException(what + " '" + name + "' would escape the bundle's directory; refusing the "
                    + "bundle");
        }
        if (!name.equals(BundleLayout.MANIFEST) && !BundleLayout.FILES.contains(name)) {
            throw new BundleException(what + " '" + name + "' is not part of an image bundle (expected "
                    + String.join(", ", BundleLayout.FILES) + ", " + BundleLayout.MANIFEST + "); refusing the bundle");
        }
    }

    private static void verify(BundleManifest manifest, Map<String, Path> files, Map<String, String> digests)
            throws IOException {
        if (!BundleManifest.FORMAT.equals(manifest.format()) || manifest.version() != BundleManifest.VERSION) {
            throw new BundleException("not a bundle this banger reads (" + BundleLayout.MANIFEST + " says format "
                    + manifest.format() + " version " + manifest.version() + "; expected " + BundleManifest.FORMAT
                    + " version " + BundleManifest.VERSION + ")");
        }
        if (manifest.image() == null || manifest.files() == null) {
            throw new BundleException(BundleLayout.MANIFEST + " has no image or no file list");
        }
        Set<String> listed = new HashSet<>();
        for (BundleManifest.FileEntry file : manifest.files()) {
            if (file == null || file.path() == null) {
                throw new BundleException(BundleLayout.MANIFEST + " lists a file without a path");
            }
            String path = file.path();
            requireKnownName(path, BundleLayout.MANIFEST + " names file");
            if (path.equals(BundleLayout.MANIFEST) || !listed.add(path)) {
                throw new BundleException(BundleLayout.MANIFEST + " lists '" + path + "' twice or as a file");
            }
            if (!files.containsKey(path)) {
                throw new BundleException(BundleLayout.MANIFEST + " lists '" + path + "', which the bundle does not "
                        + "hold (truncated?)");
            }
            long size = Files.size(files.get(path));
            if (size != file.size()) {
                throw new BundleException(path + " is " + size + " bytes; " + BundleLayout.MANIFEST + " says "
                        + file.size());
            }
            String sha = file.sha256() == null ? "" : file.sha256();
            if (!SHA256_HEX.matcher(sha).matches()) {
                throw new BundleException(BundleLayout.MANIFEST + " gives '" + path + "' no valid sha256");
            }
            if (!sha.equals(digests.get(path))) {
                throw new BundleException(path + " does not match its digest: its sha256 is " + digests.get(path)
                        + ", " + BundleLayout.MANIFEST + " says " + sha + "; refusing the bundle");
            }
        }
        for (String present : files.keySet()) {
            if (!listed.contains(present)) {
                throw new BundleException("entry '" + present + "' is not listed in " + BundleLayout.MANIFEST
                        + "; refusing the bundle");
            }
        }
        BundleManifest.ImageEntry image = manifest.image();
        if (!files.containsKey(BundleLayout.ROOTFS)) {
            throw new BundleException("the bundle has no " + BundleLayout.ROOTFS);
        }
        if (image.name() == null || !Names.isValid(image.name()) || image.source() == null) {
            throw new BundleException("the bundle's image name '" + image.name() + "' is not a valid name "
                    + "(or its source is missing)");
        }
        if (image.sizeBytes() != Files.size(files.get(BundleLayout.ROOTFS))) {
            throw new BundleException("the bundle's image says " + image.sizeBytes() + " bytes but "
                    + BundleLayout.ROOTFS + " is " + Files.size(files.get(BundleLayout.ROOTFS)));
        }
        verifyKernel(manifest.kernel(), files);
    }

    private static void verifyKernel(BundleManifest.KernelEntry kernel, Map<String, Path> files) {
        boolean hasFiles = files.containsKey(BundleLayout.KERNEL) || files.containsKey(BundleLayout.VMLINUX)
                || files.containsKey(BundleLayout.KERNEL_INITRAMFS);
        if (kernel == null) {
            if (hasFiles) {
                throw new BundleException("the bundle has kernel files but no kernel in " + BundleLayout.MANIFEST);
            }
            return;
        }
        if (!files.containsKey(BundleLayout.KERNEL) || !files.containsKey(BundleLayout.KERNEL_INITRAMFS)) {
            throw new BundleException("the bundle's kernel needs " + BundleLayout.KERNEL + " and "
                    + BundleLayout.KERNEL_INITRAMFS);
        }
        if (kernel.name() == null || !Names.isValid(kernel.name()) || kernel.version() == null
                || kernel.version().isBlank() || kernel.modules() == null || kernel.sourceReference() == null) {
            throw new BundleException("the bundle's kernel record is incomplete or its name '" + kernel.name()
                    + "' is not valid");
        }
        try {
            KernelFormat.valueOf(kernel.format());
            KernelSource.Kind.valueOf(kernel.sourceKind());
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new BundleException("the bundle's kernel has an unknown format '" + kernel.format()
                    + "' or source kind '" + kernel.sourceKind() + "'");
        }
    }

    /** A failure to write the staging directory (not the bundle's fault), carried past the bundle's errors. */
    private static final class WriteFailure extends RuntimeException {
        final IOException io;

        WriteFailure(IOException io) {
            super(io);
            this.io = io;
        }
    }

    private interface IoAction {
        Object run() throws IOException;
    }

    private static void writing(IoAction action) {
        try {
            action.run();
        } catch (IOException e) {
            throw new WriteFailure(e);
        }
    }

    /** Copies exactly {@code size} bytes into a new file, leaving all-zero blocks as holes; returns the sha256. */
    private static String writeSparse(InputStream in, Path target, long size, String name) throws IOException {
        MessageDigest sha256 = BundleWriter.sha256();
        byte[] buf = new byte[BUFFER];
        long done = 0;
        FileChannel out;
        try {
            out = FileChannel.open(target, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new WriteFailure(e);
        }
        try (out) {
            while (done < size) {
                int n = in.readNBytes(buf, 0, (int) Math.min(buf.length, size - done));
                if (n == 0) {
                    throw new EOFException("'" + name + "' ends after " + done + " of its " + size + " bytes");
                }
                sha256.update(buf, 0, n);
                for (int off = 0; off < n; off += BLOCK) {
                    int len = Math.min(BLOCK, n - off);
                    if (Arrays.mismatch(buf, off, off + len, ZEROS, 0, len) != -1) {
                        ByteBuffer block = ByteBuffer.wrap(buf, off, len);
                        long at = done + off;
                        try {
                            while (block.hasRemaining()) {
                                at += out.write(block, at);
                            }
                        } catch (IOException e) {
                            throw new WriteFailure(e);
                        }
                    }
                }
                done += n;
            }
        }
        writing(() -> {
            try (RandomAccessFile file = new RandomAccessFile(target.toFile(), "rw")) {
                file.setLength(size); // a trailing hole
            }
            return null;
        });
        return HexFormat.of().formatHex(sha256.digest());
    }
}
