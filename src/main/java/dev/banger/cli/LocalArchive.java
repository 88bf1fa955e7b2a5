package dev.banger.cli;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileVisitResult;
import java.nio.file.FileVisitOption;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * The host side of {@code vm cp}, in the CLI process (the files are the user's; the daemon runs as root): packs
 * local files into the tar archive the guest agent reads, and unpacks the one it writes. Unpacking follows the
 * agent's own rules (docs/agent-protocol.md, "File copy") because the archive comes from the guest, which is not
 * trusted: absolute names, {@code ..} and paths through symlinks are refused, an existing file or symlink at an
 * entry's name is replaced, never written through. Only this class uses commons-compress, so only {@code vm cp}
 * loads it.
 *
 * <p>What is kept is {@code cp -a}'s: all twelve mode bits (setuid, setgid, sticky), times, symlinks as symlinks,
 * FIFOs as FIFOs, and with {@code owners} numeric owners. Without owners (a caller that is not root) the files
 * are the caller's and lose their set-id bits, as with {@code cp}. Sockets and device nodes are skipped with a
 * warning (the guest agent does not create devices either). A FIFO is made and timed without being opened (an
 * open would wait for a writer): {@code mkfifo} and {@code touch -h}, each with an argv, never a shell.
 */
final class LocalArchive {

    private static final int S_IFREG = 0100000;
    private static final int S_IFDIR = 0040000;
    private static final int S_IFLNK = 0120000;
    private static final int S_IFIFO = 0010000;
    private static final int SET_ID_BITS = 06000;
    private static final LinkOption[] NOFOLLOW = {LinkOption.NOFOLLOW_LINKS};
    /** File contents move in pieces of this size both ways (one buffer per archive; 8 KiB cost a syscall each). */
    private static final int COPY_BUFFER = 256 * 1024;

    /** What an unpack created. */
    record Stats(long files, long dirs, long symlinks, long others, long bytes, long skipped, List<String> warnings) {
    }

    /** An archive entry refused for where it would land. */
    static final class UnsafeEntryException extends IOException {
        UnsafeEntryException(String message) {
            super(message);
        }
    }

    private LocalArchive() {
    }

    /** True when this process runs as root (it may give files away): {@code vm cp} then keeps owners. */
    static boolean runningAsRoot() {
        try {
            Object uid = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
            return uid instanceof Integer i && i == 0;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return false;
        }
    }

    /** The archive's top-level name for a source path: its last component, or "." for "DIR/." and "/". */
    static String rootName(String source) {
        String s = source;
        while (s.length() > 1 && s.endsWith("/")) {
            s = s.substring(0, s.length() - 1);
        }
        if (s.equals("/") || s.equals(".") || s.endsWith("/.")) {
            return ".";
        }
        int slash = s.lastIndexOf('/');
        return slash < 0 ? s : s.substring(slash + 1);
    }

    /** File content bytes under {@code source} (for the progress line). */
    static long measure(Path source) throws IOException {
        long[] total = {0};
        Files.walkFileTree(source, EnumSet.noneOf(FileVisitOption.class), Integer.MAX_VALUE,
                new SimpleFileVisitor<>() {
                    @Override
                    public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                        if (attrs.isRegularFile()) {
                            total[0] += attrs.size();
                        }
                        return FileVisitResult.CONTINUE;
                    }

                    @Override
                    public FileVisitResult visitFileFailed(Path file, IOException exc) {
                        return FileVisitResult.CONTINUE;
                    }
                });
        return total[0];
    }

    /**
     * Writes a tar archive of {@code source} (a file, a symlink or a directory tree; symlinks are never followed)
     * to {@code out}, names starting with {@code root}. Closes {@code out}.
     *
     * @param owners record files' uid/gid; otherwise they are recorded as root's (0), what the guest should own
     * @param warnings told about what was left out (sockets, device nodes, unreadable files)
     */
    static void pack(Path source, String root, OutputStream out, boolean owners, Consumer<String> warnings)
            throws IOException {
        byte[] buf = new byte[COPY_BUFFER];
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(out)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_GNU);
            tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_STAR);
            Files.walkFileTree(source, EnumSet.noneOf(FileVisitOption.class), Integer.MAX_VALUE,
                    new SimpleFileVisitor<>() {
                        @Override
                        public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs)
                                throws IOException {
                            String name = nameOf(dir);
                            put(tar, dir, name.endsWith("/") ? name : name + "/", TarConstants.LF_DIR, owners);
                            tar.closeArchiveEntry();
                            return FileVisitResult.CONTINUE;
                        }

                        @Override
                        public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                            if (attrs.isSymbolicLink()) {
                                put(tar, file, nameOf(file), TarConstants.LF_SYMLINK, owners);
                            } else if (attrs.isRegularFile()) {
                                InputStream in;
                                try {
                                    in = Files.newInputStream(file, NOFOLLOW);
                                } catch (IOException e) {
                                    warnings.accept(file + ": " + e.getMessage() + "; skipped");
                                    return FileVisitResult.CONTINUE;
                                }
                                try (in) {
                                    put(tar, file, nameOf(file), TarConstants.LF_NORMAL, owners);
                                    copyExactly(in, tar, attrs.size(), buf, file, warnings);
                                }
                            } else if (isFifo(file)) {
                                put(tar, file, nameOf(file), TarConstants.LF_FIFO, owners);
                            } else {
                                warnings.accept(file + ": a socket or device node; skipped");
                                return FileVisitResult.CONTINUE;
                            }
                            tar.closeArchiveEntry();
                            return FileVisitResult.CONTINUE;
                        }

                        @Override
                        public FileVisitResult visitFileFailed(Path file, IOException exc) throws IOException {
                            if (file.equals(source)) {
                                throw exc;
                            }
                            warnings.accept(file + ": " + exc.getMessage() + "; skipped");
                            return FileVisitResult.CONTINUE;
                        }

                        private String nameOf(Path p) {
                            String rel = source.relativize(p).toString();
                            return rel.isEmpty() ? root : root + "/" + rel;
                        }
                    });
            tar.finish();
        }
    }

    private static void put(TarArchiveOutputStream tar, Path p, String name, byte type, boolean owners)
            throws IOException {
        Map<String, Object> a = Files.readAttributes(p, "unix:mode,uid,gid,lastModifiedTime,size", NOFOLLOW);
        int perms = (Integer) a.get("mode") & 07777;
        TarArchiveEntry e = new TarArchiveEntry(name, type);
        switch (type) {
            case TarConstants.LF_DIR -> e.setMode(S_IFDIR | perms);
            case TarConstants.LF_SYMLINK -> {
                e.setMode(S_IFLNK | perms);
                e.setLinkName(Files.readSymbolicLink(p).toString());
            }
            case TarConstants.LF_FIFO -> e.setMode(S_IFIFO | perms);
            default -> {
                e.setMode(S_IFREG | perms);
                e.setSize((Long) a.get("size"));
            }
        }
        e.setLastModifiedTime((FileTime) a.get("lastModifiedTime"));
        e.setUserId(owners ? ((Number) a.get("uid")).longValue() : 0);
        e.setGroupId(owners ? ((Number) a.get("gid")).longValue() : 0);
        tar.putArchiveEntry(e);
    }

    private static boolean isFifo(Path p) throws IOException {
        return ((Integer) Files.getAttribute(p, "unix:mode", NOFOLLOW) & 0170000) == S_IFIFO;
    }

    /**
     * Exactly {@code size} bytes, as the header said: a file that shrank meanwhile is padded with zeros.
     *
     * @param buf the archive's one copy buffer (a new one per file cost an allocation of its size per file)
     */
    private static void copyExactly(InputStream in, OutputStream out, long size, byte[] buf, Path file,
                                    Consumer<String> warnings) throws IOException {
        long left = size;
        while (left > 0) {
            int n = in.read(buf, 0, (int) Math.min(buf.length, left));
            if (n < 0) {
                warnings.accept(file + ": shrank while it was copied; padded with zeros");
                java.util.Arrays.fill(buf, (byte) 0);
                while (left > 0) {
                    int k = (int) Math.min(buf.length, left);
                    out.write(buf, 0, k);
                    left -= k;
                }
                return;
            }
            out.write(buf, 0, n);
            left -= n;
        }
    }

    /**
     * Unpacks the archive on {@code in} at {@code destination}: into it when it is an existing directory, else as
     * it (its parent must exist), the archive's single top-level entry taking its name.
     *
     * @param owners apply the archive's uid/gid (as root; otherwise the files are the caller's and set-id bits
     *     are dropped)
     * @throws UnsafeEntryException for an entry that would land outside the destination; entries before it stay
     */
    static Stats unpack(InputStream in, Path destination, boolean owners) throws IOException {
        Unpacker u = new Unpacker(destination, owners);
        TarArchiveInputStream tar = new TarArchiveInputStream(in);
        TarArchiveEntry e;
        while ((e = tar.getNextEntry()) != null) {
            u.entry(e, tar);
        }
        u.finishDirectories();
        return new Stats(u.files, u.dirs, u.symlinks, u.others, u.bytes, u.skipped, List.copyOf(u.warnings));
    }

    private static final class Unpacker {
        private static final OpenOption[] CREATE_FILE = {StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
            LinkOption.NOFOLLOW_LINKS};
        private final Path base;
        private final String leaf;
        private final boolean owners;
        private final List<Object[]> directories = new ArrayList<>();
        private final List<String> warnings = new ArrayList<>();
        private final byte[] buffer = new byte[COPY_BUFFER];
        private String root;
        private List<String> lastParent;
        private Path lastParentPath;
        private long files;
        private long dirs;
        private long symlinks;
        private long others;
        private long bytes;
        private long skipped;

        Unpacker(Path destination, boolean owners) throws IOException {
            this.owners = owners;
            Path dest = destination.toAbsolutePath().normalize();
            if (Files.isDirectory(dest)) {
                base = dest; // the user's own choice, symlink or not
                leaf = null;
            } else {
                Path parent = dest.getParent();
                if (parent == null || dest.getFileName() == null || !Files.isDirectory(parent)) {
                    throw new NoSuchFileException(String.valueOf(parent), null, "no such directory");
                }
                base = parent;
                leaf = dest.getFileName().toString();
            }
        }

        /** The entry's path relative to base, as components; empty for the destination directory itself. */
        private List<String> map(String name) throws IOException {
            if (name.startsWith("/")) {
                throw new UnsafeEntryException("refusing the absolute path " + name + " in the archive");
            }
            List<String> out = new ArrayList<>();
            boolean first = true;
            for (String c : name.split("/")) {
                if (c.isEmpty()) {
                    continue;
                }
                if (c.equals("..")) {
                    throw new UnsafeEntryException("refusing " + name + ": it climbs out of the destination with ..");
                }
                String comp = c;
                if (first) {
                    first = false;
                    if (leaf != null) {
                        if (root == null) {
                            root = c;
                        } else if (!root.equals(c)) {
                            throw new UnsafeEntryException("the archive has more than one top-level entry (" + root
                                    + " and " + c + "); copy into an existing directory instead");
                        }
                        comp = leaf;
                    }
                }
                if (!comp.equals(".")) {
                    out.add(comp);
                }
            }
            return out;
        }

        /**
         * Walks to the entry's parent without following a symlink, creating missing directories. Consecutive
         * entries of one directory skip the walk: no entry replaces a directory ({@link #clear}), so the parent
         * last walked to is still that directory.
         */
        private Path place(List<String> rel, String entry) throws IOException {
            List<String> parent = rel.subList(0, rel.size() - 1);
            if (parent.equals(lastParent)) {
                return lastParentPath.resolve(rel.get(rel.size() - 1));
            }
            Path cur = base;
            for (int i = 0; i < rel.size() - 1; i++) {
                cur = cur.resolve(rel.get(i));
                try {
                    BasicFileAttributes a = Files.readAttributes(cur, BasicFileAttributes.class, NOFOLLOW);
                    if (a.isSymbolicLink() || !a.isDirectory()) {
                        throw new UnsafeEntryException("refusing " + entry + ": " + base.relativize(cur)
                                + " is a symlink or not a directory");
                    }
                } catch (NoSuchFileException e) {
                    Files.createDirectory(cur);
                }
            }
            lastParent = List.copyOf(parent);
            lastParentPath = cur;
            return cur.resolve(rel.get(rel.size() - 1));
        }

        /** Removes a file or symlink where a non-directory goes; a directory there is an error. */
        private void clear(Path target, String entry) throws IOException {
            if (Files.isDirectory(target, NOFOLLOW)) {
                throw new IOException(entry + ": cannot replace the directory " + target + " with a non-directory");
            }
            Files.deleteIfExists(target);
        }

        void entry(TarArchiveEntry e, InputStream data) throws IOException {
            List<String> rel = map(e.getName());
            if (rel.isEmpty()) {
                return; // the destination directory itself keeps its own mode and times
            }
            Path target = place(rel, e.getName());
            if (e.isDirectory()) {
                if (!Files.isDirectory(target, NOFOLLOW)) {
                    Files.deleteIfExists(target);
                    Files.createDirectory(target);
                }
                directories.add(new Object[] {target, e});
                dirs++;
            } else if (e.isSymbolicLink()) {
                clear(target, e.getName());
                Files.createSymbolicLink(target, Path.of(e.getLinkName()));
                setTimes(target, e, true);
                symlinks++;
            } else if (e.isLink()) {
                List<String> to = map(e.getLinkName());
                if (to.isEmpty()) {
                    throw new UnsafeEntryException("refusing " + e.getName() + ": a hard link to the destination");
                }
                Path existing = place(to, e.getName());
                clear(target, e.getName());
                Files.createLink(target, existing);
                files++;
            } else if (e.isFIFO()) {
                clear(target, e.getName());
                makeFifo(target, e);
                others++;
            } else if (e.isFile()) {
                try (OutputStream out = createFile(target, e.getName())) {
                    bytes += copy(data, out);
                }
                applyMode(target, e, applyOwner(target, e));
                setTimes(target, e, false);
                files++;
            } else {
                warnings.add(e.getName() + ": not a file, directory, link or FIFO; skipped");
                skipped++;
            }
        }

        /**
         * A new file at {@code target}, never written through what is there: created with O_EXCL (which also
         * refuses a symlink), and only when the name is taken is it cleared (a file or symlink removed, a
         * directory refused) and the file created again.
         */
        private OutputStream createFile(Path target, String entry) throws IOException {
            try {
                return Files.newOutputStream(target, CREATE_FILE);
            } catch (FileAlreadyExistsException taken) {
                clear(target, entry);
            }
            try {
                return Files.newOutputStream(target, CREATE_FILE);
            } catch (FileAlreadyExistsException ex) {
                throw new UnsafeEntryException("refusing " + entry + ": " + target + " appeared meanwhile");
            }
        }

        /** The entry's contents, in pieces of {@link #COPY_BUFFER}. */
        private long copy(InputStream data, OutputStream out) throws IOException {
            long n = 0;
            int r;
            while ((r = data.read(buffer)) > 0) {
                out.write(buffer, 0, r);
                n += r;
            }
            return n;
        }

        void finishDirectories() throws IOException {
            for (int i = directories.size() - 1; i >= 0; i--) {
                Path dir = (Path) directories.get(i)[0];
                TarArchiveEntry e = (TarArchiveEntry) directories.get(i)[1];
                applyMode(dir, e, applyOwner(dir, e));
                setTimes(dir, e, false);
            }
        }

        /** Gives {@code p} (never followed) the entry's owner when asked; true when it has it. */
        private boolean applyOwner(Path p, TarArchiveEntry e) {
            if (!owners) {
                return false;
            }
            try {
                Files.setAttribute(p, "unix:uid", (int) e.getLongUserId(), NOFOLLOW);
                Files.setAttribute(p, "unix:gid", (int) e.getLongGroupId(), NOFOLLOW);
                return true;
            } catch (IOException | UnsupportedOperationException ex) {
                if (warnings.size() < 5) {
                    warnings.add(p + ": cannot set the owner: " + ex.getMessage());
                }
                return false;
            }
        }

        /**
         * All twelve mode bits, after the owner (a chown clears set-id bits); without the recorded owner, set-id
         * bits are dropped, as cp does. Opens {@code p} (O_NOFOLLOW): files and directories only.
         */
        private static void applyMode(Path p, TarArchiveEntry e, boolean owned) throws IOException {
            int mode = e.getMode() & 07777 & (owned ? 07777 : ~SET_ID_BITS);
            Files.setAttribute(p, "unix:mode", mode, NOFOLLOW);
        }

        /** A FIFO with the entry's owner, mode and time, never opened. */
        private void makeFifo(Path target, TarArchiveEntry e) throws IOException {
            run("cannot create the FIFO " + target, "mkfifo", "-m", Integer.toOctalString(e.getMode() & 0777), "--",
                    target.toString());
            boolean owned = applyOwner(target, e);
            int special = e.getMode() & (owned ? 07000 : 01000);
            if (special != 0) {
                // Path-based chmod(2) (the JDK opens the file for a NOFOLLOW change): target is the FIFO just made.
                Files.setAttribute(target, "unix:mode", special | (e.getMode() & 0777));
            }
            run("cannot set the time of the FIFO " + target, "touch", "-h", "-d",
                    "@" + e.getLastModifiedTime().toInstant().getEpochSecond(), "--", target.toString());
        }

        private static void run(String what, String... argv) throws IOException {
            Process p = new ProcessBuilder(argv).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(
                    new File("/dev/null"))).start();
            String out;
            try (InputStream in = p.getInputStream()) {
                out = new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
            }
            try {
                if (p.waitFor() != 0) {
                    int colon = out.lastIndexOf(": ");
                    throw new IOException(what + ": " + (colon < 0 ? out : out.substring(colon + 2)));
                }
            } catch (InterruptedException ex) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
                throw new InterruptedIOException(what + ": interrupted");
            }
        }

        private static void setTimes(Path p, TarArchiveEntry e, boolean link) {
            try {
                Files.getFileAttributeView(p, BasicFileAttributeView.class, link ? NOFOLLOW : new LinkOption[0])
                        .setTimes(e.getLastModifiedTime(), null, null);
            } catch (IOException ex) {
                // Times are a courtesy: a link whose times cannot be set is still the right link.
            }
        }
    }
}
