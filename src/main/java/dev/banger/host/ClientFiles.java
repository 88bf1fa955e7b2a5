package dev.banger.host;

import dev.banger.api.BangerException;
import dev.banger.api.ErrorCode;
import dev.banger.rpc.Peer;
import dev.banger.util.Files2;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Local files a client names in a request ({@code image register --rootfs}, {@code image pull oci-layout:DIR} and
 * {@code docker-archive:FILE}, the docker config, {@code kernel import}'s kernel, deb and modules), opened with
 * the client's privileges, never the daemon's.
 *
 * <p>For a {@link Peer#privileged() privileged} peer (root, or the daemon's own user) the path is used as it is.
 * For any other peer (a member of the socket group) the daemon never opens the path itself: a helper running as
 * the peer ({@code setpriv} with its uid, primary group and group list, no new privileges) reads it, following
 * symlinks and checking every directory on the way as the kernel does for that user, and the daemon writes what
 * the helper sends into a private copy under the staging dir. So a member can have the daemon read exactly what
 * it could read itself. A file comes through {@code cat} (zero blocks written as holes); a directory through
 * {@code tar}, of which only directories and regular files are kept (no symlink the daemon could later follow),
 * names checked to stay inside the copy.
 */
public final class ClientFiles {

    /** What the copy of one input may hold, at most: bigger inputs are refused. */
    public record Limit(long bytes) {
        public static Limit mib(long mib) {
            return new Limit(mib * 1024 * 1024);
        }

        public static Limit gib(long gib) {
            return new Limit(gib * 1024 * 1024 * 1024);
        }
    }

    /**
     * A client's input as the daemon may read it: the named path itself, or a private copy that closing deletes.
     *
     * @param path what to read
     * @param copied whether {@code path} is a copy the daemon made as the peer (then the daemon may move it)
     */
    public record Local(Path path, boolean copied) implements AutoCloseable {
        @Override
        public void close() {
            if (copied) {
                try {
                    Files2.deleteRecursively(path.getParent());
                } catch (IOException e) {
                    // The staging dir is private; a leftover is removed with it.
                }
            }
        }
    }

    /** What a path is, as the peer sees it (after symlinks). */
    public enum Kind { REGULAR_FILE, DIRECTORY, OTHER, MISSING }

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ClientFiles.class);
    static final long HELPER_TIMEOUT_MINUTES = 30;
    private static final int BLOCK = 64 * 1024;
    private static final ScheduledExecutorService WATCHDOG = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "client-files-watchdog");
        t.setDaemon(true);
        return t;
    });

    private final Path stagingRoot;

    /** @param stagingRoot a directory only the daemon can enter, on the file system of the store */
    public ClientFiles(Path stagingRoot) {
        this.stagingRoot = stagingRoot;
    }

    /**
     * What {@code path} is to the peer: the daemon's own view for a privileged peer, a {@code stat} as the peer
     * otherwise.
     */
    public Kind kind(Peer peer, Path path) {
        if (peer.privileged()) {
            if (Files.isRegularFile(path)) {
                return Kind.REGULAR_FILE;
            }
            return Files.isDirectory(path) ? Kind.DIRECTORY : Files.exists(path) ? Kind.OTHER : Kind.MISSING;
        }
        Helper stat = Helper.start(peer, List.of("stat", "-L", "--printf=%F", "--", path.toString()), null);
        String out;
        try (InputStream in = stat.process.getInputStream()) {
            out = new String(in.readNBytes(256), StandardCharsets.UTF_8);
        } catch (IOException e) {
            out = "";
        }
        if (stat.await() != 0) {
            return Kind.MISSING; // Missing or unreachable for the peer: the same to it.
        }
        return out.startsWith("regular") ? Kind.REGULAR_FILE : out.equals("directory") ? Kind.DIRECTORY
                : Kind.OTHER;
    }

    /**
     * The regular file at {@code path} as the peer may read it.
     *
     * @param what how the request named it, for messages ({@code --rootfs})
     * @throws BangerException {@code permission_denied} when the peer cannot read it, {@code invalid_argument}
     *     when it is missing or not a regular file, {@code failed_precondition} when it is larger than
     *     {@code limit} or the copy fails
     */
    public Local file(Peer peer, Path path, String what, Limit limit) {
        Kind kind = kind(peer, path);
        if (kind != Kind.REGULAR_FILE) {
            throw notRegular(peer, path, what, kind, "a regular file");
        }
        if (peer.privileged()) {
            return new Local(path, false);
        }
        Path dir = newStagingDir();
        Path copy = dir.resolve(safeName(path));
        Helper cat = Helper.start(peer, List.of("cat", "--", path.toString()), dir);
        try (InputStream in = cat.process.getInputStream();
             FileChannel out = FileChannel.open(copy, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            copySparse(in, out, limit, what + " " + path);
        } catch (IOException | RuntimeException e) {
            cat.kill();
            deleteQuietly(dir);
            throw e instanceof BangerException be ? be : failed(what, path, e);
        }
        int status = cat.await();
        if (status != 0) {
            deleteQuietly(dir);
            throw helperFailed(peer, path, what, cat);
        }
        return new Local(copy, true);
    }

    /**
     * The directory tree at {@code dir} as the peer may read it: for an unprivileged peer a copy holding its
     * directories and regular files only (symlinks, devices and the like are left out).
     *
     * @throws BangerException as {@link #file}
     */
    public Local tree(Peer peer, Path dir, String what, Limit limit) {
        Kind kind = kind(peer, dir);
        if (kind != Kind.DIRECTORY) {
            throw notRegular(peer, dir, what, kind, "a directory");
        }
        if (peer.privileged()) {
            return new Local(dir, false);
        }
        Path staging = newStagingDir();
        Path copy = staging.resolve("tree");
        Helper tar = Helper.start(peer, List.of("tar", "-C", dir.toString(), "-cf", "-", "."), staging);
        try (InputStream in = tar.process.getInputStream()) {
            Files.createDirectory(copy);
            unpack(in, copy, limit, what + " " + dir);
            in.transferTo(java.io.OutputStream.nullOutputStream()); // tar's end-of-archive blocks
        } catch (IOException | RuntimeException e) {
            tar.kill();
            deleteQuietly(staging);
            throw e instanceof BangerException be ? be : failed(what, dir, e);
        }
        int status = tar.await();
        if (status != 0) {
            deleteQuietly(staging);
            throw helperFailed(peer, dir, what, tar);
        }
        return new Local(copy, true);
    }

    private static void copySparse(InputStream in, FileChannel out, Limit limit, String what) throws IOException {
        byte[] block = new byte[BLOCK];
        long total = 0;
        while (true) {
            int n = in.readNBytes(block, 0, BLOCK);
            if (n <= 0) {
                break;
            }
            total += n;
            if (total > limit.bytes()) {
                throw BangerException.failedPrecondition(what + " is larger than " + limit.bytes()
                        + " bytes, the most banger copies from a client that is not root");
            }
            if (isZero(block, n)) {
                out.position(out.position() + n); // A hole.
            } else {
                ByteBuffer buffer = ByteBuffer.wrap(block, 0, n);
                while (buffer.hasRemaining()) {
                    out.write(buffer);
                }
            }
        }
        if (out.size() < total) { // Ends in a hole: give the file its length.
            out.write(ByteBuffer.allocate(1), total - 1);
        }
    }

    private static boolean isZero(byte[] block, int n) {
        for (int i = 0; i < n; i++) {
            if (block[i] != 0) {
                return false;
            }
        }
        return true;
    }

    /** Unpacks tar's archive of directories and files: nothing else, and nothing outside {@code into}. */
    private static void unpack(InputStream in, Path into, Limit limit, String what) throws IOException {
        long total = 0;
        TarArchiveInputStream tar = new TarArchiveInputStream(in);
        TarArchiveEntry entry;
        while ((entry = tar.getNextEntry()) != null) {
            Path target = into.resolve(entry.getName()).normalize();
            if (!target.startsWith(into)) {
                throw BangerException.invalidArgument(what + ": the archive of it names " + entry.getName()
                        + ", outside it");
            }
            if (entry.isDirectory()) {
                Files.createDirectories(target);
            } else if (entry.isFile() && !entry.isLink()) {
                total += entry.getSize();
                if (total > limit.bytes()) {
                    throw BangerException.failedPrecondition(what + " holds more than " + limit.bytes()
                            + " bytes, the most banger copies from a client that is not root");
                }
                Files.createDirectories(target.getParent());
                if (Files.isSymbolicLink(target.getParent())) {
                    throw new IOException("unexpected symlink " + target.getParent());
                }
                Files.copy(tar, target);
            }
            // Symlinks, hard links, devices, fifos: left out.
        }
    }

    /** Reads a program's standard output. */
    @FunctionalInterface
    public interface Output {
        void read(InputStream stdout) throws IOException;
    }

    /**
     * How a program run as the peer ended.
     *
     * @param status its exit status
     * @param errors its whole error output
     * @param firstError the first line of it, without the program's name: for messages
     */
    public record Ran(int status, String errors, String firstError) {
        public boolean succeeded() {
            return status == 0;
        }
    }

    /**
     * Runs {@code command} as the peer, the way the readers of {@link #file} and {@link #tree} run (whatever the
     * peer's privileges: a caller uses this for peers that are not privileged), with {@code stdin} as its input
     * (none when null) and its output given to {@code output} as it comes. The program runs in {@code /}.
     *
     * @param env variables to set for it (a null value removes one)
     * @throws BangerException {@code failed_precondition} when {@code output} fails (the program is killed)
     */
    public Ran runAs(Peer peer, List<String> command, java.util.Map<String, String> env, byte[] stdin,
                     Output output) {
        Path dir = newStagingDir(); // For its error output.
        try {
            Helper helper = Helper.start(peer, command, dir, env, stdin);
            try (InputStream in = helper.process.getInputStream()) {
                output.read(in);
                in.transferTo(java.io.OutputStream.nullOutputStream());
            } catch (IOException | RuntimeException e) {
                helper.kill();
                throw e instanceof BangerException be ? be : BangerException.failedPrecondition("cannot read what "
                        + command.get(0) + " sent as user " + peer.user() + ": " + (e instanceof IOException io
                        ? Files2.describe(io) : e.toString()));
            }
            int status = helper.await();
            return new Ran(status, helper.allErrors(), helper.errors());
        } finally {
            deleteQuietly(dir);
        }
    }

    /**
     * A place for a private copy the caller makes: {@code name} in a new directory only the daemon can enter
     * (not created), deleted with that directory when closed.
     */
    public Local newCopy(String name) {
        return new Local(newStagingDir().resolve(name), true);
    }

    /**
     * Removes the private copies a daemon that died mid-call left in the staging dir. Run at start-up, before the
     * server takes calls: no copy is in use then.
     *
     * @return how many leftovers were removed
     */
    public int removeLeftovers() {
        if (!Files.isDirectory(stagingRoot, LinkOption.NOFOLLOW_LINKS)) {
            return 0;
        }
        int removed = 0;
        try (java.nio.file.DirectoryStream<Path> entries = Files.newDirectoryStream(stagingRoot)) {
            for (Path entry : entries) {
                Files2.deleteRecursively(entry);
                removed++;
            }
        } catch (IOException | UncheckedIOException e) {
            LOG.warn("cannot remove the copies of client inputs an earlier daemon left in {}: {}", stagingRoot,
                    e.toString());
        }
        return removed;
    }

    private Path newStagingDir() {
        try {
            Files.createDirectories(stagingRoot);
            return Files.createTempDirectory(stagingRoot, "client-",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (IOException e) {
            throw BangerException.failedPrecondition("cannot make a staging directory in " + stagingRoot + ": "
                    + Files2.describe(e));
        }
    }

    private static String safeName(Path path) {
        String name = path.getFileName() == null ? "input" : path.getFileName().toString();
        return name.isEmpty() || name.startsWith(".") ? "input" : name;
    }

    private static BangerException notRegular(Peer peer, Path path, String what, Kind kind, String wanted) {
        return switch (kind) {
            case MISSING -> BangerException.invalidArgument(what + " " + path + ": no such file or directory"
                    + (peer.privileged() ? "" : " that user " + peer.user() + " can reach"));
            case OTHER -> BangerException.invalidArgument(what + " " + path + " is not " + wanted
                    + " (a device, fifo or socket?)");
            default -> BangerException.invalidArgument(what + " " + path + " is not " + wanted);
        };
    }

    private static BangerException failed(String what, Path path, Exception e) {
        String reason = e instanceof IOException io ? Files2.describe(io)
                : e instanceof UncheckedIOException u ? Files2.describe(u.getCause()) : e.toString();
        return BangerException.failedPrecondition("cannot copy " + what + " " + path + ": " + reason);
    }

    private static BangerException helperFailed(Peer peer, Path path, String what, Helper helper) {
        String detail = helper.errors();
        ErrorCode code = detail.contains("Permission denied") ? ErrorCode.PERMISSION_DENIED
                : ErrorCode.FAILED_PRECONDITION;
        return new BangerException(code, "cannot read " + what + " " + path + " as user " + peer.user() + ": "
                + (detail.isBlank() ? "the reader exited with status " + helper.process.exitValue() : detail));
    }

    private static void deleteQuietly(Path dir) {
        try {
            Files2.deleteRecursively(dir);
        } catch (IOException ignored) {
            // Private staging; removed with the staging root at the latest.
        }
    }

    /** One program run as the peer, its stderr kept in a file of the staging dir (or discarded). */
    private static final class Helper {
        final Process process;
        final Path stderr;
        final ScheduledFuture<?> watchdog;

        private Helper(Process process, Path stderr) {
            this.process = process;
            this.stderr = stderr;
            this.watchdog = WATCHDOG.schedule(process::destroyForcibly, HELPER_TIMEOUT_MINUTES, TimeUnit.MINUTES);
        }

        static Helper start(Peer peer, List<String> command, Path stagingDir) {
            return start(peer, command, stagingDir, java.util.Map.of(), null);
        }

        /** @param env variables to set (a null value removes one) @param stdin what the program reads, or null */
        static Helper start(Peer peer, List<String> command, Path stagingDir, java.util.Map<String, String> env,
                            byte[] stdin) {
            List<String> argv = new ArrayList<>(List.of("setpriv", "--reuid=" + peer.user(),
                    "--regid=" + peer.group(), "--init-groups", "--no-new-privs", "--"));
            argv.addAll(command);
            ProcessBuilder pb = new ProcessBuilder(argv).redirectInput(stdin == null ? ProcessBuilder.Redirect.from(
                    new java.io.File("/dev/null")) : ProcessBuilder.Redirect.PIPE);
            pb.directory(new java.io.File("/"));
            pb.environment().put("LC_ALL", "C");
            env.forEach((name, value) -> {
                if (value == null) {
                    pb.environment().remove(name);
                } else {
                    pb.environment().put(name, value);
                }
            });
            Path stderr = null;
            try {
                if (stagingDir != null) {
                    stderr = stagingDir.resolve(".stderr");
                    pb.redirectError(stderr.toFile());
                } else {
                    pb.redirectError(ProcessBuilder.Redirect.DISCARD);
                }
                Helper helper = new Helper(pb.start(), stderr);
                if (stdin != null) {
                    Thread feeder = new Thread(() -> {
                        try (java.io.OutputStream in = helper.process.getOutputStream()) {
                            in.write(stdin);
                        } catch (IOException ignored) {
                            // The program stopped reading: its exit status tells why.
                        }
                    }, "client-files-stdin");
                    feeder.setDaemon(true);
                    feeder.start();
                }
                return helper;
            } catch (IOException e) {
                throw BangerException.failedPrecondition("cannot run " + command.get(0) + " as user " + peer.user()
                        + " (setpriv, from util-linux): " + e.getMessage());
            }
        }

        int await() {
            try {
                if (!process.waitFor(HELPER_TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                    process.destroyForcibly();
                }
                return process.waitFor();
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
                throw new BangerException(ErrorCode.CANCELLED, "interrupted while reading a client's file");
            } finally {
                watchdog.cancel(false);
            }
        }

        void kill() {
            process.destroyForcibly();
            watchdog.cancel(false);
        }

        /** The helper's whole error output. */
        String allErrors() {
            try {
                return stderr == null ? "" : Files.readString(stderr, StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "";
            }
        }

        /** The helper's error output: its first line, without the program's name prefix. */
        String errors() {
            if (stderr == null) {
                return "";
            }
            try {
                List<String> lines = Files.readAllLines(stderr, StandardCharsets.UTF_8).stream()
                        .filter(l -> !l.isBlank()).toList();
                if (lines.isEmpty()) {
                    return "";
                }
                String first = lines.get(0).strip();
                return first.replaceFirst("^(cat|tar|setpriv|stat|git|fatal): ", "");
            } catch (IOException e) {
                return "";
            }
        }
    }
}
