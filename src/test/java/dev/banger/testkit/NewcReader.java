package dev.banger.testkit;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * Reads newc cpio archives for assertions, including several archives one after the other (as in an initrd made
 * of concatenated gzip members), the way the kernel's initramfs unpacker does.
 */
public final class NewcReader {

    /** One archive member. {@code archive} counts from 0 across concatenated archives. */
    public record Entry(int archive, String name, int mode, int uid, int gid, long mtime, int nlink,
                        int rdevMajor, int rdevMinor, byte[] data) {
        public boolean isDirectory() {
            return (mode & 0170000) == 0040000;
        }

        public boolean isFile() {
            return (mode & 0170000) == 0100000;
        }

        public boolean isCharDevice() {
            return (mode & 0170000) == 0020000;
        }

        public String text() {
            return new String(data, StandardCharsets.UTF_8);
        }
    }

    private NewcReader() {
    }

    public static List<Entry> readGzip(Path file) throws IOException {
        try (InputStream in = new GZIPInputStream(Files.newInputStream(file))) {
            return read(in.readAllBytes());
        }
    }

    public static List<Entry> read(byte[] bytes) throws IOException {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
        List<Entry> entries = new ArrayList<>();
        int archive = 0;
        long pos = 0;
        while (true) {
            // Zero padding between archives is allowed, as in the kernel's unpacker.
            in.mark(1);
            int b = in.read();
            if (b < 0) {
                return entries;
            }
            if (b == 0) {
                pos++;
                continue;
            }
            in.reset();
            if (pos % 4 != 0) {
                throw new IOException("header not 4-byte aligned at " + pos);
            }
            byte[] header = new byte[110];
            in.readFully(header);
            String h = new String(header, StandardCharsets.US_ASCII);
            if (!h.startsWith("070701")) {
                throw new IOException("bad newc magic at " + pos + ": " + h.substring(0, 6));
            }
            long[] f = new long[13];
            for (int i = 0; i < 13; i++) {
                f[i] = Long.parseLong(h.substring(6 + i * 8, 14 + i * 8), 16);
            }
            int nameSize = (int) f[11];
            byte[] name = new byte[nameSize];
            in.readFully(name);
            pos += 110 + nameSize;
            pos += skipPad(in, pos);
            byte[] data = new byte[(int) f[6]];
            in.readFully(data);
            pos += data.length;
            pos += skipPad(in, pos);
            if (name[nameSize - 1] != 0) {
                throw new IOException("entry name not NUL-terminated at " + pos);
            }
            String n = new String(name, 0, nameSize - 1, StandardCharsets.UTF_8);
            if (n.equals("TRAILER!!!")) {
                archive++;
                continue;
            }
            entries.add(new Entry(archive, n, (int) f[1], (int) f[2], (int) f[3], f[5], (int) f[4],
                    (int) f[9], (int) f[10], data));
        }
    }

    private static int skipPad(DataInputStream in, long pos) throws IOException {
        int pad = (int) ((4 - pos % 4) % 4);
        for (int i = 0; i < pad; i++) {
            if (in.read() < 0) {
                throw new EOFException("truncated padding");
            }
        }
        return pad;
    }
}
