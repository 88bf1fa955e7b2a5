package dev.banger.kernel;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

/**
 * Writes a newc ("070701") cpio archive, the format the kernel unpacks as an initramfs. Output depends only on
 * what is added, in which order: owner is always 0:0 and mtime is fixed, so identical input gives identical bytes.
 * Parent directories are written (mode 0755) before the first entry inside them. Names are stored without a
 * leading slash. {@link #close()} writes the trailer; it does not close the underlying stream.
 */
final class CpioWriter implements Closeable {

    static final int S_IFDIR = 0040000;
    static final int S_IFREG = 0100000;
    static final int S_IFLNK = 0120000;
    static final int S_IFCHR = 0020000;
    static final String TRAILER = "TRAILER!!!";

    private final OutputStream out;
    private final Set<String> directories = new HashSet<>();
    private long written;
    private int nextInode = 1;
    private boolean closed;

    CpioWriter(OutputStream out) {
        this.out = out;
    }

    void directory(String path, int permissions) throws IOException {
        String name = normalize(path);
        parents(name);
        if (directories.add(name)) {
            header(name, S_IFDIR | permissions, 2, 0, 0, 0);
        }
    }

    void file(String path, int permissions, byte[] content) throws IOException {
        String name = normalize(path);
        parents(name);
        header(name, S_IFREG | permissions, 1, content.length, 0, 0);
        write(content, content.length);
        pad();
    }

    void file(String path, int permissions, Path source) throws IOException {
        String name = normalize(path);
        parents(name);
        long size = Files.size(source);
        if (size > 0xFFFFFFFFL) {
            throw new IOException("file too large for a newc cpio archive (over 4 GiB): " + source);
        }
        header(name, S_IFREG | permissions, 1, size, 0, 0);
        long copied = 0;
        byte[] buf = new byte[64 * 1024];
        try (InputStream in = Files.newInputStream(source)) {
            for (int n; copied < size && (n = in.read(buf, 0, (int) Math.min(buf.length, size - copied))) > 0; ) {
                write(buf, n);
                copied += n;
            }
        }
        if (copied != size) {
            throw new IOException(source + " changed size while being archived (" + size + " -> " + copied + ")");
        }
        pad();
    }

    void symlink(String path, String target) throws IOException {
        String name = normalize(path);
        parents(name);
        byte[] t = target.getBytes(StandardCharsets.UTF_8);
        header(name, S_IFLNK | 0777, 1, t.length, 0, 0);
        write(t, t.length);
        pad();
    }

    void characterDevice(String path, int permissions, int major, int minor) throws IOException {
        String name = normalize(path);
        parents(name);
        header(name, S_IFCHR | permissions, 1, 0, major, minor);
    }

    @Override
    public void close() throws IOException {
        if (!closed) {
            closed = true;
            writeHeader(TRAILER, 0, 0, 1, 0, 0, 0);
            out.flush();
        }
    }

    private void parents(String name) throws IOException {
        int slash = name.lastIndexOf('/');
        if (slash > 0) {
            String parent = name.substring(0, slash);
            if (!directories.contains(parent)) {
                directory(parent, 0755);
            }
        }
    }

    private void header(String name, int mode, int nlink, long size, int rdevMajor, int rdevMinor)
            throws IOException {
        if (closed) {
            throw new IllegalStateException("cpio archive already closed");
        }
        writeHeader(name, nextInode++, mode, nlink, size, rdevMajor, rdevMinor);
    }

    private void writeHeader(String name, int inode, int mode, int nlink, long size, int rdevMajor, int rdevMinor)
            throws IOException {
        byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
        StringBuilder h = new StringBuilder(110);
        h.append("070701");
        hex(h, inode);
        hex(h, mode);
        hex(h, 0);            // uid
        hex(h, 0);            // gid
        hex(h, nlink);
        hex(h, 0);            // mtime: fixed for reproducible archives
        hex(h, size);
        hex(h, 0);            // devmajor
        hex(h, 0);            // devminor
        hex(h, rdevMajor);
        hex(h, rdevMinor);
        hex(h, nameBytes.length + 1L);
        hex(h, 0);            // check (only used by the "070702" crc format)
        byte[] hb = h.toString().getBytes(StandardCharsets.US_ASCII);
        write(hb, hb.length);
        write(nameBytes, nameBytes.length);
        write(new byte[1], 1);
        pad();
    }

    private static void hex(StringBuilder h, long value) {
        String s = Long.toHexString(value).toUpperCase(java.util.Locale.ROOT);
        h.append("0".repeat(8 - s.length())).append(s);
    }

    private void write(byte[] b, int len) throws IOException {
        out.write(b, 0, len);
        written += len;
    }

    private void pad() throws IOException {
        int rem = (int) (written % 4);
        if (rem != 0) {
            write(new byte[4 - rem], 4 - rem);
        }
    }

    private static String normalize(String path) {
        String name = path;
        while (name.startsWith("/")) {
            name = name.substring(1);
        }
        while (name.endsWith("/")) {
            name = name.substring(0, name.length() - 1);
        }
        if (name.isEmpty() || name.equals(TRAILER)) {
            throw new IllegalArgumentException("invalid cpio entry name: \"" + path + "\"");
        }
        for (String part : name.split("/")) {
            if (part.isEmpty() || part.equals(".") || part.equals("..")) {
                throw new IllegalArgumentException("invalid cpio entry name: \"" + path + "\"");
            }
        }
        return name;
    }
}
