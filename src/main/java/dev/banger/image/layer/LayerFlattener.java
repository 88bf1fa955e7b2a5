package dev.banger.image.layer;

import dev.banger.host.Command;
import dev.banger.host.CommandFailedException;
import dev.banger.host.CommandRunner;
import dev.banger.host.Executables;
import dev.banger.image.ImageException;
import dev.banger.util.Files2;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies image layers, bottom first, into a {@link StagingTree}: OCI whiteouts ({@code .wh.NAME} removes NAME
 * from lower layers, {@code .wh..wh..opq} empties a directory of lower-layer content), modes including
 * setuid/setgid/sticky, uid/gid, symlinks, hardlinks, device nodes and FIFOs ({@link SpecialNodes}: made with
 * mknod and never opened; tar has no type for sockets, so layers carry none), xattrs
 * (user.* directly; security.capability, trusted.* and POSIX ACLs through {@code setfattr} when installed).
 *
 * <p>Hostile layers are refused with an {@link UnsafeLayerException} naming the layer and the entry: absolute
 * names, {@code ..}, a path through a symlink (nothing is ever written through a symlink: each parent is checked
 * to be a real directory, files are created with O_CREAT|O_EXCL|O_NOFOLLOW, ownership is set with lchown),
 * hardlinks to targets outside the tree or through symlinks, over-long names, and layers exceeding the
 * {@link FlattenLimits} (a layer's expansion over its compressed size among them). The caller removes the partial
 * tree. Ownership is recorded as the layers say, so this must run as root.
 *
 * <p>Files are written sparse: every 4 KiB block of zeros (at a 4 KiB offset) is left as a hole, so a layer of
 * zeros costs no staging space, and {@code mkfs.ext4 -d} (which copies only data) keeps the holes in the disk. What
 * is allocated, and {@link StagingBudget#ENTRY_COST} per entry, is charged to the pull's {@link StagingBudget.Charge};
 * when it does not fit, a {@link StagingSpaceException} naming the layer and entry ends the flattening.
 *
 * <p>Not thread-safe: one flattener per image, layers applied in order.
 */
public final class LayerFlattener {

    private static final Logger LOG = LoggerFactory.getLogger(LayerFlattener.class);
    private static final String WHITEOUT = ".wh.";
    private static final String OPAQUE = ".wh..wh..opq";
    private static final int BUFFER = 256 * 1024;
    /** Runs of zeros this long, at this alignment in the file, are left as holes. */
    private static final int BLOCK = 4096;
    private static final byte[] ZERO_BLOCK = new byte[BLOCK];
    /** Bytes of tar framing allowed per entry beyond file content (headers, PAX records, padding). */
    private static final long FRAMING_PER_ENTRY = 16 * 1024;
    private static final Set<String> SETFATTR_NAMESPACES = Set.of("security.capability", "system.posix_acl_access",
            "system.posix_acl_default");

    private final StagingTree tree;
    private final FlattenLimits limits;
    private final StagingBudget.Charge charge;
    private final CommandRunner runner;
    private final Path setfattr;
    private final SpecialNodes nodes;
    private final Map<Path, FileTime> directoryTimes = new HashMap<>();
    private final byte[] buffer = new byte[BUFFER];
    private long bytes;
    private long entries;
    private long layerBytes;
    private long layerLimit;
    private int skippedXattrs;
    private int skippedDevices;

    /** As below, with no staging budget beyond the file system's own space. */
    public LayerFlattener(StagingTree tree, FlattenLimits limits, CommandRunner runner, Executables executables) {
        this(tree, limits, StagingBudget.unlimited().open(StagingBudget.Place.DISK, null), runner, executables);
    }

    /**
     * @param charge what the staged content is charged to
     * @throws ImageException when this process is not root (ownership could not be recorded)
     */
    public LayerFlattener(StagingTree tree, FlattenLimits limits, StagingBudget.Charge charge, CommandRunner runner,
                          Executables executables) {
        if (!Ownership.canChown()) {
            throw new ImageException("flattening an image needs root: the files' owners (uid/gid) from the layers"
                    + " must be recorded in the root filesystem; run bangerd as root");
        }
        this.tree = tree;
        this.limits = limits;
        this.charge = charge;
        this.runner = runner;
        this.setfattr = executables.find("setfattr").orElse(null);
        this.nodes = new SpecialNodes(runner, executables);
    }

    /** Total regular-file bytes written so far, over all layers. */
    public long bytesWritten() {
        return bytes;
    }

    /** Total entries read so far, over all layers. */
    public long entries() {
        return entries;
    }

    /**
     * Applies one layer blob (gzip, zstd or plain tar; the content decides).
     *
     * @param layer names the layer in errors, e.g. "layer 2/3 (sha256:…)"
     * @throws UnsafeLayerException for hostile or over-limit content
     * @throws IOException when the blob cannot be read or decompressed, or the disk fails
     */
    public void apply(Path blob, String layer) throws IOException {
        try (InputStream raw = Files.newInputStream(blob, LinkOption.NOFOLLOW_LINKS)) {
            apply(raw, Files.size(blob), layer);
        }
    }

    /**
     * As {@link #apply(Path, String)}, reading {@code blob} (which the caller closes) of {@code compressedBytes}
     * (what its expansion is measured against).
     */
    public void apply(InputStream blob, long compressedBytes, String layer) throws IOException {
        Set<String> layerPaths = new HashSet<>();
        long streamBudget = limits.maxBytes() + limits.maxEntries() * FRAMING_PER_ENTRY;
        layerLimit = limits.layerLimit(compressedBytes);
        layerBytes = 0;
        String expansion = "expands to more than " + layerLimit + " bytes from " + compressedBytes
                + " compressed (limit: " + limits.maxExpansion() + " times its compressed size, "
                + limits.expansionFloorBytes() + " bytes at least; a decompression bomb?); refusing it";
        try (InputStream decompressed = new ReadAhead(new BoundedStream(Decompression.open(new NonClosing(blob)),
                Math.min(streamBudget, layerLimit)));
             TarArchiveInputStream tar = new TarArchiveInputStream(decompressed, StandardCharsets.UTF_8.name())) {
            TarArchiveEntry entry;
            while ((entry = tar.getNextEntry()) != null) {
                if (++entries > limits.maxEntries()) {
                    throw new UnsafeLayerException(layer, entry.getName(), "more than " + limits.maxEntries()
                            + " entries in the image (limit); refusing it");
                }
                try {
                    charge.add(StagingBudget.ENTRY_COST);
                    applyEntry(tar, entry, layer, layerPaths);
                } catch (StagingSpaceException e) {
                    throw e.within(layer + ": entry '" + entry.getName() + "'");
                } catch (LayerExpansionException e) {
                    throw new UnsafeLayerException(layer, entry.getName(), expansion);
                } catch (UnsafePathException e) {
                    throw new UnsafeLayerException(layer, entry.getName(), e.reason());
                } catch (java.nio.file.InvalidPathException e) {
                    throw new UnsafeLayerException(layer, entry.getName(), "name cannot be represented as a file"
                            + " name here (file-name encoding " + System.getProperty("sun.jnu.encoding")
                            + "); run bangerd with a UTF-8 locale, e.g. LC_ALL=C.UTF-8");
                } catch (IOException e) {
                    if (limitExceeded(e) != null) {
                        throw e;
                    }
                    throw new LayerEntryException(layer, entry.getName(), Files2.reason(e), e);
                }
            }
        } catch (IOException e) {
            BoundedStream.LimitExceeded over = limitExceeded(e);
            if (over != null && over.limit == layerLimit) {
                throw new UnsafeLayerException(layer, null, expansion);
            }
            if (over != null) {
                throw new UnsafeLayerException(layer, null, "decompresses to more than " + over.limit
                        + " bytes of tar stream (limit); refusing it");
            }
            throw new IOException(layer + ": " + Files2.reason(e), e);
        }
    }

    private static BoundedStream.LimitExceeded limitExceeded(IOException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof BoundedStream.LimitExceeded over) {
                return over;
            }
        }
        return null;
    }

    /** Sets the directory modification times recorded by the layers; call once after the last layer. */
    public void finish() throws IOException {
        List<Map.Entry<Path, FileTime>> dirs = new ArrayList<>(directoryTimes.entrySet());
        dirs.sort((a, b) -> Integer.compare(b.getKey().getNameCount(), a.getKey().getNameCount()));
        for (Map.Entry<Path, FileTime> d : dirs) {
            BasicFileAttributes a = StagingTree.lstat(d.getKey());
            if (a != null && a.isDirectory()) {
                Files.getFileAttributeView(d.getKey(), BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                        .setTimes(d.getValue(), d.getValue(), null);
            }
        }
        directoryTimes.clear();
        if (skippedXattrs > 0 || skippedDevices > 0) {
            LOG.warn("image flattened without {} extended attribute(s) and {} device node(s) this host cannot"
                    + " record", skippedXattrs, skippedDevices);
        }
    }

    private void applyEntry(TarArchiveInputStream tar, TarArchiveEntry entry, String layer, Set<String> layerPaths)
            throws IOException {
        EntryPath path = parse(entry.getName(), layer);
        if (path.isRoot()) {
            return;
        }
        String name = path.name();
        if (name.startsWith(WHITEOUT)) {
            whiteout(path, entry, layer, layerPaths);
            return;
        }
        Path dir = tree.directory(path.parent(), true);
        Path target = dir.resolve(name);
        BasicFileAttributes existing = StagingTree.lstat(target);
        if (existing != null && !(existing.isDirectory() && entry.isDirectory())) {
            StagingTree.remove(target, existing);
        }
        layerPaths.add(path.toString());
        int mode = entry.getMode() & 07777;
        int uid = checkedId(entry.getLongUserId(), "uid", entry, layer);
        int gid = checkedId(entry.getLongGroupId(), "gid", entry, layer);
        FileTime mtime = FileTime.from(entry.getLastModifiedTime().toInstant());
        if (entry.isDirectory()) {
            if (existing == null || !existing.isDirectory()) {
                Files.createDirectory(target);
            }
            Ownership.chown(target, uid, gid);
            Ownership.chmod(target, mode);
            applyXattrs(target, entry);
            directoryTimes.put(target, mtime);
        } else if (entry.isSymbolicLink()) {
            String link = entry.getLinkName();
            if (link == null || link.isEmpty() || link.indexOf('\0') >= 0
                    || link.getBytes(StandardCharsets.UTF_8).length > EntryPath.MAX_PATH_BYTES) {
                throw new UnsafeLayerException(layer, entry.getName(), "invalid symlink target");
            }
            Files.createSymbolicLink(target, Path.of(link));
            Ownership.chown(target, uid, gid);
            setTimes(target, mtime);
        } else if (entry.isLink()) {
            Path source = hardlinkSource(entry, layer);
            Files.createLink(target, source);
        } else if (entry.isCharacterDevice() || entry.isBlockDevice() || entry.isFIFO()) {
            SpecialNodes.Kind kind = entry.isFIFO() ? SpecialNodes.Kind.FIFO
                    : entry.isCharacterDevice() ? SpecialNodes.Kind.CHARACTER : SpecialNodes.Kind.BLOCK;
            if (!nodes.create(target, kind, entry.getDevMajor(), entry.getDevMinor(), mode, uid, gid, mtime)) {
                skippedDevices++;
                layerPaths.remove(path.toString());
            }
        } else if (entry.isFile()) {
            writeFile(tar, entry, target, layer);
            if (uid != 0 || gid != 0) {
                Ownership.chown(target, uid, gid);
            }
            Ownership.chmod(target, mode);
            applyXattrs(target, entry);
            setTimes(target, mtime);
        } else {
            layerPaths.remove(path.toString());
            LOG.debug("{}: skipping entry '{}' of unsupported tar type", layer, entry.getName());
        }
    }

    private EntryPath parse(String name, String layer) {
        try {
            return EntryPath.parse(name);
        } catch (EntryPath.InvalidPathException e) {
            throw new UnsafeLayerException(layer, name, e.getMessage());
        }
    }

    private void whiteout(EntryPath path, TarArchiveEntry entry, String layer, Set<String> layerPaths)
            throws IOException {
        String name = path.name();
        EntryPath parent = path.parent();
        if (name.equals(OPAQUE)) {
            Path dir = tree.directory(parent, false);
            if (dir != null) {
                clearLowerContent(dir, parent, layerPaths);
            }
            return;
        }
        if (name.startsWith(WHITEOUT + WHITEOUT)) {
            return;
        }
        String hidden = name.substring(WHITEOUT.length());
        if (hidden.isEmpty() || hidden.equals(".") || hidden.equals("..")) {
            throw new UnsafeLayerException(layer, entry.getName(), "whiteout of an invalid name");
        }
        EntryPath victim = parent.child(hidden);
        if (layerPaths.contains(victim.toString())) {
            return;
        }
        Path dir = tree.directory(parent, false);
        if (dir == null) {
            return;
        }
        Path target = dir.resolve(hidden);
        BasicFileAttributes a = StagingTree.lstat(target);
        if (a != null) {
            StagingTree.remove(target, a);
        }
    }

    /** Empties {@code dir} of everything lower layers put there, keeping what this layer wrote. */
    private void clearLowerContent(Path dir, EntryPath rel, Set<String> layerPaths) throws IOException {
        List<Path> children;
        try (Stream<Path> list = Files.list(dir)) {
            children = list.toList();
        }
        for (Path child : children) {
            EntryPath childRel = rel.child(child.getFileName().toString());
            BasicFileAttributes a = StagingTree.lstat(child);
            if (a == null) {
                continue;
            }
            if (!layerPaths.contains(childRel.toString())) {
                StagingTree.remove(child, a);
            } else if (a.isDirectory()) {
                clearLowerContent(child, childRel, layerPaths);
            }
        }
    }

    private Path hardlinkSource(TarArchiveEntry entry, String layer) throws IOException {
        String link = entry.getLinkName();
        EntryPath source;
        try {
            source = EntryPath.parse(link);
        } catch (EntryPath.InvalidPathException e) {
            throw new UnsafeLayerException(layer, entry.getName(), "hardlink target '" + link + "': "
                    + e.getMessage());
        }
        if (source.isRoot()) {
            throw new UnsafeLayerException(layer, entry.getName(), "hardlink to the image root");
        }
        Path dir;
        try {
            dir = tree.directory(source.parent(), false);
        } catch (UnsafePathException e) {
            throw new UnsafeLayerException(layer, entry.getName(), "hardlink target '" + link + "': " + e.reason());
        }
        Path path = dir == null ? null : dir.resolve(source.name());
        BasicFileAttributes a = path == null ? null : StagingTree.lstat(path);
        if (a == null) {
            throw new UnsafeLayerException(layer, entry.getName(), "hardlink target '" + link
                    + "' does not exist in the image");
        }
        if (a.isDirectory()) {
            throw new UnsafeLayerException(layer, entry.getName(), "hardlink to directory '" + link + "'");
        }
        return path;
    }

    /**
     * Writes the entry's content, leaving each 4 KiB block of zeros as a hole. Blocks are judged at their offset in
     * the file: the buffer is filled completely before it is written, so every chunk but the last starts and ends on
     * a block boundary.
     */
    private void writeFile(TarArchiveInputStream tar, TarArchiveEntry entry, Path target, String layer)
            throws IOException {
        if (entry.getSize() > limits.maxBytes() - bytes) {
            throw new UnsafeLayerException(layer, entry.getName(), "file of " + entry.getSize()
                    + " bytes takes the image past " + limits.maxBytes() + " bytes (limit); refusing it");
        }
        if (entry.getSize() > layerLimit - layerBytes) {
            throw new LayerExpansionException();
        }
        try (FileChannel out = FileChannel.open(target, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                LinkOption.NOFOLLOW_LINKS)) {
            long position = 0;
            boolean endsInHole = false;
            int n;
            while ((n = tar.readNBytes(buffer, 0, buffer.length)) > 0) {
                bytes += n;
                layerBytes += n;
                if (bytes > limits.maxBytes()) {
                    throw new UnsafeLayerException(layer, entry.getName(), "the image's files exceed "
                            + limits.maxBytes() + " bytes (limit); refusing it");
                }
                if (layerBytes > layerLimit) {
                    throw new LayerExpansionException();
                }
                endsInHole = writeSparse(out, position, n);
                position += n;
            }
            if (endsInHole) {
                // The file's length: one byte at its end (its last block is then allocated).
                writeFully(out, ByteBuffer.wrap(ZERO_BLOCK, 0, 1), position - 1);
                charge.add(BLOCK);
            }
        }
    }

    /** Writes {@code buffer[0, n)} at {@code position} skipping zero blocks; true when its last block is a hole. */
    private boolean writeSparse(FileChannel out, long position, int n) throws IOException {
        int runStart = -1;
        boolean lastHole = false;
        for (int off = 0; off < n; off += BLOCK) {
            int len = Math.min(BLOCK, n - off);
            boolean zero = Arrays.mismatch(buffer, off, off + len, ZERO_BLOCK, 0, len) < 0;
            if (zero && runStart >= 0) {
                writeRun(out, position, runStart, off);
                runStart = -1;
            } else if (!zero && runStart < 0) {
                runStart = off;
            }
            lastHole = zero;
        }
        if (runStart >= 0) {
            writeRun(out, position, runStart, n);
        }
        return lastHole;
    }

    private void writeRun(FileChannel out, long position, int from, int to) throws IOException {
        charge.add((long) (to - from + BLOCK - 1) / BLOCK * BLOCK);
        writeFully(out, ByteBuffer.wrap(buffer, from, to - from), position + from);
    }

    private static void writeFully(FileChannel out, ByteBuffer bb, long position) throws IOException {
        long at = position;
        while (bb.hasRemaining()) {
            at += out.write(bb, at);
        }
    }

    private void applyXattrs(Path target, TarArchiveEntry entry) throws IOException {
        Map<String, String> pax = entry.getExtraPaxHeaders();
        if (pax.isEmpty()) {
            return;
        }
        Map<String, byte[]> xattrs = new LinkedHashMap<>();
        for (Map.Entry<String, String> h : pax.entrySet()) {
            String key = h.getKey();
            if (key.startsWith("SCHILY.xattr.")) {
                String value = h.getValue();
                if (value.indexOf('\uFFFD') >= 0) {
                    skippedXattrs++;
                    continue;
                }
                xattrs.put(key.substring("SCHILY.xattr.".length()), value.getBytes(StandardCharsets.UTF_8));
            } else if (key.startsWith("LIBARCHIVE.xattr.")) {
                try {
                    xattrs.put(URLDecoder.decode(key.substring("LIBARCHIVE.xattr.".length()), StandardCharsets.UTF_8),
                            Base64.getDecoder().decode(h.getValue().strip()));
                } catch (IllegalArgumentException e) {
                    skippedXattrs++;
                }
            }
        }
        for (Map.Entry<String, byte[]> x : xattrs.entrySet()) {
            String name = x.getKey();
            if (name.startsWith("user.")) {
                UserDefinedFileAttributeView view = Files.getFileAttributeView(target,
                        UserDefinedFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
                try {
                    view.write(name.substring("user.".length()), ByteBuffer.wrap(x.getValue()));
                } catch (IOException | UnsupportedOperationException e) {
                    skippedXattrs++;
                }
            } else if ((SETFATTR_NAMESPACES.contains(name) || name.startsWith("trusted.")) && setfattr != null) {
                try {
                    runner.run(Command.of(setfattr.toString(), "-h", "-n", name, "-v",
                            "0x" + HexFormat.of().formatHex(x.getValue()), target.toString()));
                } catch (CommandFailedException e) {
                    skippedXattrs++;
                }
            } else {
                skippedXattrs++;
            }
        }
    }

    /** For regular files and symlinks only: on anything else the JDK opens the file (see {@link SpecialNodes}). */
    private static void setTimes(Path target, FileTime mtime) throws IOException {
        Files.getFileAttributeView(target, BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                .setTimes(mtime, mtime, null);
    }

    private static int checkedId(long id, String kind, TarArchiveEntry entry, String layer) {
        if (id < 0 || id > 0xFFFF_FFFEL) {
            throw new UnsafeLayerException(layer, entry.getName(), kind + " " + id + " is out of range");
        }
        return (int) id;
    }

    /** A layer's file content passed its expansion limit (turned into an {@link UnsafeLayerException}). */
    private static final class LayerExpansionException extends RuntimeException {
        LayerExpansionException() {
            super(null, null, false, false);
        }
    }

    /** Keeps the decompressor from closing the caller's stream. */
    private static final class NonClosing extends java.io.FilterInputStream {
        NonClosing(InputStream in) {
            super(in);
        }

        @Override
        public void close() {
        }
    }

    /** Fails once more than {@code limit} bytes have been read. */
    private static final class BoundedStream extends java.io.FilterInputStream {

        static final class LimitExceeded extends IOException {
            final long limit;

            LimitExceeded(long limit) {
                super("stream exceeds " + limit + " bytes");
                this.limit = limit;
            }
        }

        private final long limit;
        private long read;

        BoundedStream(InputStream in, long limit) {
            super(in);
            this.limit = limit;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0 && ++read > limit) {
                throw new LimitExceeded(limit);
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) {
                read += n;
                if (read > limit) {
                    throw new LimitExceeded(limit);
                }
            }
            return n;
        }
    }
}
