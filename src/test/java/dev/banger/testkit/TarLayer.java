package dev.banger.testkit;

import com.github.luben.zstd.ZstdOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * Builds a layer tarball entry by entry, any entry the tests need, hostile ones included (names are written as
 * given: absolute, with "..", over-long).
 */
public final class TarLayer {

    public enum Compression { NONE, GZIP, ZSTD }

    private final List<Consumer<TarArchiveOutputStream>> writes = new ArrayList<>();

    public TarLayer dir(String name, int mode, int uid, int gid) {
        return add(name.endsWith("/") ? name : name + "/", TarConstants.LF_DIR, mode, uid, gid, null, new byte[0]);
    }

    public TarLayer dir(String name) {
        return dir(name, 0755, 0, 0);
    }

    public TarLayer file(String name, String content) {
        return file(name, content.getBytes(StandardCharsets.UTF_8), 0644, 0, 0);
    }

    public TarLayer file(String name, byte[] content, int mode, int uid, int gid) {
        return add(name, TarConstants.LF_NORMAL, mode, uid, gid, null, content);
    }

    public TarLayer symlink(String name, String target) {
        return add(name, TarConstants.LF_SYMLINK, 0777, 0, 0, target, new byte[0]);
    }

    public TarLayer hardlink(String name, String target) {
        return add(name, TarConstants.LF_LINK, 0644, 0, 0, target, new byte[0]);
    }

    public TarLayer fifo(String name) {
        return add(name, TarConstants.LF_FIFO, 0600, 0, 0, null, new byte[0]);
    }

    /** A FIFO with its mode, owner and modification time (seconds since the epoch). */
    public TarLayer fifo(String name, int mode, int uid, int gid, long mtimeSeconds) {
        return node(name, TarConstants.LF_FIFO, 0, 0, mode, uid, gid, mtimeSeconds);
    }

    /** A character device node, e.g. {@code charDevice("dev/null", 1, 3, 0666, 0, 0, T)}. */
    public TarLayer charDevice(String name, int major, int minor, int mode, int uid, int gid, long mtimeSeconds) {
        return node(name, TarConstants.LF_CHR, major, minor, mode, uid, gid, mtimeSeconds);
    }

    /** A block device node, e.g. {@code blockDevice("dev/loop0", 7, 0, 0660, 0, 6, T)}. */
    public TarLayer blockDevice(String name, int major, int minor, int mode, int uid, int gid, long mtimeSeconds) {
        return node(name, TarConstants.LF_BLK, major, minor, mode, uid, gid, mtimeSeconds);
    }

    private TarLayer node(String name, byte type, int major, int minor, int mode, int uid, int gid,
                          long mtimeSeconds) {
        writes.add(out -> {
            TarArchiveEntry e = new TarArchiveEntry(name, type, true);
            e.setMode(mode);
            e.setUserId(uid);
            e.setGroupId(gid);
            e.setModTime(mtimeSeconds * 1000);
            if (type != TarConstants.LF_FIFO) {
                e.setDevMajor(major);
                e.setDevMinor(minor);
            }
            put(out, e, new byte[0]);
        });
        return this;
    }

    /** A regular file with PAX extended headers (e.g. SCHILY.xattr.user.x). */
    public TarLayer fileWithPax(String name, String content, Map<String, String> pax) {
        writes.add(out -> {
            TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_NORMAL, true);
            byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
            e.setSize(bytes.length);
            e.setMode(0644);
            pax.forEach(e::addPaxHeader);
            put(out, e, bytes);
        });
        return this;
    }

    /**
     * Copies host directories into the layer under their own paths (leading '/' dropped), files in walk order, until
     * {@code maxBytes} of file content is in. For benchmarks: real files compress like real images.
     *
     * @return the bytes of file content added
     */
    public long hostTrees(List<Path> dirs, long maxBytes) {
        long[] total = {0};
        for (Path dir : dirs) {
            try (java.util.stream.Stream<Path> walk = Files.walk(dir)) {
                for (Path p : (Iterable<Path>) walk::iterator) {
                    if (total[0] >= maxBytes) {
                        return total[0];
                    }
                    String name = p.toString().substring(1);
                    if (Files.isSymbolicLink(p)) {
                        symlink(name, Files.readSymbolicLink(p).toString());
                    } else if (Files.isDirectory(p)) {
                        dir(name);
                    } else if (Files.isRegularFile(p) && Files.isReadable(p)) {
                        byte[] content = Files.readAllBytes(p);
                        total[0] += content.length;
                        file(name, content, 0644, 0, 0);
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return total[0];
    }

    /** A regular file whose content is {@code size} zero bytes (streamed, not held in memory). */
    public TarLayer zeros(String name, long size) {
        writes.add(out -> {
            TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_NORMAL, true);
            e.setSize(size);
            e.setMode(0644);
            try {
                out.putArchiveEntry(e);
                byte[] chunk = new byte[64 * 1024];
                for (long left = size; left > 0; left -= chunk.length) {
                    out.write(chunk, 0, (int) Math.min(chunk.length, left));
                }
                out.closeArchiveEntry();
            } catch (IOException ex) {
                throw new UncheckedIOException(ex);
            }
        });
        return this;
    }

    private TarLayer add(String name, byte type, int mode, int uid, int gid, String link, byte[] content) {
        writes.add(out -> {
            TarArchiveEntry e = new TarArchiveEntry(name, type, true);
            e.setMode(mode);
            e.setUserId(uid);
            e.setGroupId(gid);
            e.setModTime(1_700_000_000_000L);
            if (link != null) {
                e.setLinkName(link);
            }
            if (type == TarConstants.LF_NORMAL) {
                e.setSize(content.length);
            }
            put(out, e, content);
        });
        return this;
    }

    private static void put(TarArchiveOutputStream out, TarArchiveEntry e, byte[] content) {
        try {
            out.putArchiveEntry(e);
            out.write(content);
            out.closeArchiveEntry();
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
    }

    public byte[] bytes(Compression compression) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        write(buf, compression);
        return buf.toByteArray();
    }

    public void writeTo(Path file, Compression compression) {
        try (OutputStream out = Files.newOutputStream(file)) {
            write(out, compression);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void write(OutputStream sink, Compression compression) {
        try {
            OutputStream compressed = switch (compression) {
                case NONE -> new NonClosing(sink);
                case GZIP -> new GZIPOutputStream(new NonClosing(sink), 64 * 1024);
                case ZSTD -> new ZstdOutputStream(new NonClosing(sink));
            };
            try (TarArchiveOutputStream tar = new TarArchiveOutputStream(compressed, StandardCharsets.UTF_8.name())) {
                tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
                tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
                tar.setAddPaxHeadersForNonAsciiNames(true);
                for (Consumer<TarArchiveOutputStream> w : writes) {
                    w.accept(tar);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static final class NonClosing extends java.io.FilterOutputStream {
        NonClosing(OutputStream out) {
            super(out);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
        }

        @Override
        public void close() throws IOException {
            flush();
        }
    }
}
