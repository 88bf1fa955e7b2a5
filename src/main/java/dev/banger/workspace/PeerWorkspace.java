package dev.banger.workspace;

import dev.banger.api.BangerException;
import dev.banger.api.ErrorCode;
import dev.banger.host.ClientFiles;
import dev.banger.rpc.Peer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * The workspace of a peer that is not {@link Peer#privileged() privileged} (a member of the socket group), read
 * as that peer, never as the daemon: git (listing the files, writing a bundle of the history) and tar (archiving
 * the listed files) run as the peer through {@link ClientFiles#runAs} ({@code setpriv} with its uid and groups,
 * no new privileges), and the daemon keeps a private copy of what they sent: the working tree under
 * {@value #TREE}, the history as {@value #BUNDLE}. So a workspace holds exactly what the peer can read: a file it
 * cannot read is refused with {@code permission_denied}, a symlink stays a symlink (its target is never read on
 * the host), a repository it cannot enter is refused.
 *
 * <p>The copy keeps directories, regular files (without set-id bits) and symlinks, their owners as tar recorded
 * them; names must stay inside the copy, never pass {@code .git} or a symlink, and come once.
 */
final class PeerWorkspace {

    static final String TREE = "tree";
    static final String BUNDLE = "history.bundle";
    /** What a workspace copied for a peer may hold (files and history together), at most. */
    static final ClientFiles.Limit LIMIT = ClientFiles.Limit.gib(64);
    /** What git may print about a repository (the file list), at most. */
    private static final int MAX_LISTING = 256 << 20;

    private final ClientFiles clientFiles;

    PeerWorkspace(ClientFiles clientFiles) {
        this.clientFiles = clientFiles;
    }

    /** As {@link WorkspaceService#find}, with every read of the repository done as {@code peer}. */
    Optional<Workspace> find(Peer peer, Path dir) {
        if (clientFiles.kind(peer, dir) != ClientFiles.Kind.DIRECTORY) {
            throw BangerException.invalidArgument("workspace " + dir + " is not a directory that user "
                    + peer.user() + " can reach");
        }
        Git top = git(peer, dir, "rev-parse", "--show-toplevel");
        if (!top.ran().succeeded()) {
            if (top.ran().errors().contains("Permission denied")) {
                throw new BangerException(ErrorCode.PERMISSION_DENIED, "cannot read the workspace " + dir
                        + " as user " + peer.user() + ": " + top.ran().firstError());
            }
            return Optional.empty();
        }
        Path root = Path.of(top.stdout().strip());
        String prefix = checked(peer, root, git(peer, dir, "rev-parse", "--show-prefix")).strip();
        if (prefix.endsWith("/")) {
            prefix = prefix.substring(0, prefix.length() - 1);
        }
        Git head = git(peer, root, "rev-parse", "--verify", "-q", "HEAD");
        Git branch = git(peer, root, "symbolic-ref", "-q", "--short", "HEAD");
        String listing = checked(peer, root, git(peer, root, "ls-files", "-z", "--cached", "--others",
                "--exclude-standard"));
        Set<String> names = new LinkedHashSet<>();
        for (String name : listing.split("\0")) {
            if (!name.isEmpty()) {
                names.add(name);
            }
        }
        ClientFiles.Local copy = clientFiles.newCopy("workspace");
        try {
            Path tree = Files.createDirectories(copy.path().resolve(TREE));
            Copied copied = copyFiles(peer, root, names, tree);
            long bytes = copied.bytes();
            if (head.ran().succeeded()) {
                bytes += copyHistory(peer, root, copy.path().resolve(BUNDLE), LIMIT.bytes() - bytes);
            }
            String name = root.getFileName() == null ? "workspace" : root.getFileName().toString();
            return Optional.of(new Workspace(root, name, head.ran().succeeded() ? head.stdout().strip() : null,
                    head.ran().succeeded() && branch.ran().succeeded() ? branch.stdout().strip() : null,
                    copied.files(), prefix, bytes, copy));
        } catch (IOException | RuntimeException e) {
            copy.close();
            throw e instanceof BangerException be ? be : BangerException.failedPrecondition("cannot copy the "
                    + "workspace " + root + ": " + e.getMessage());
        }
    }

    /** The listed files, archived by tar as the peer, unpacked into {@code tree}. */
    private Copied copyFiles(Peer peer, Path root, Set<String> names, Path tree) {
        ByteArrayOutputStream list = new ByteArrayOutputStream();
        for (String name : names) {
            list.writeBytes(name.getBytes(StandardCharsets.UTF_8));
            list.write(0);
        }
        Copied[] copied = new Copied[1];
        // --ignore-failed-read: a tracked file deleted from the working tree is left out (as for root); a file
        // the peer may not read is refused below, from tar's complaint.
        ClientFiles.Ran tar = clientFiles.runAs(peer, List.of("tar", "-C", root.toString(), "--null",
                "--no-recursion", "--hard-dereference", "--numeric-owner", "--ignore-failed-read", "-cf", "-",
                "-T", "-"), Map.of(), list.toByteArray(), in -> copied[0] = unpack(in, tree, LIMIT));
        for (String line : tar.errors().split("\n")) {
            if (line.contains("Permission denied")) {
                throw new BangerException(ErrorCode.PERMISSION_DENIED, "cannot copy the workspace " + root
                        + " as user " + peer.user() + ": " + line.replaceFirst("^tar: ", "") + " (make it "
                        + "readable to " + peer.user() + ", or have git ignore it)");
            }
        }
        if (!tar.succeeded()) {
            throw BangerException.failedPrecondition("cannot copy the workspace " + root + " as user "
                    + peer.user() + ": " + tar.firstError());
        }
        return copied[0];
    }

    /** A bundle of the history (HEAD, branches, tags), written by git as the peer; returns its size. */
    private long copyHistory(Peer peer, Path root, Path bundle, long limit) throws IOException {
        ClientFiles.Ran git = clientFiles.runAs(peer, WorkspaceService.gitArgv(root, "bundle", "create", "-",
                "HEAD", "--branches", "--tags"), GIT_ENV, null, in -> {
                    try (OutputStream out = Files.newOutputStream(bundle, StandardOpenOption.CREATE_NEW,
                            StandardOpenOption.WRITE)) {
                        long total = 0;
                        byte[] buf = new byte[64 * 1024];
                        int n;
                        while ((n = in.read(buf)) > 0) {
                            total += n;
                            if (total > limit) {
                                throw tooBig(root);
                            }
                            out.write(buf, 0, n);
                        }
                    }
                });
        if (!git.succeeded()) {
            throw BangerException.failedPrecondition("cannot copy the history of the workspace " + root
                    + " as user " + peer.user() + ": " + git.firstError());
        }
        return Files.size(bundle);
    }

    /** What the unpacking kept: files and symlinks, relative to the copy, and their size on a disk. */
    record Copied(List<String> files, long bytes) {
    }

    /**
     * Unpacks tar's archive of a working tree into {@code into}: directories, regular files and symlinks, nothing
     * else, nothing outside {@code into}, nothing under a symlink or a {@code .git}, no name twice.
     */
    static Copied unpack(InputStream in, Path into, ClientFiles.Limit limit) throws IOException {
        List<String> files = new ArrayList<>();
        long total = 0;
        long bytes = 0;
        TarArchiveInputStream tar = new TarArchiveInputStream(in);
        TarArchiveEntry entry;
        while ((entry = tar.getNextEntry()) != null) {
            String name = relativeName(entry.getName());
            if (name.isEmpty()) {
                continue;
            }
            Path target = into.resolve(name);
            if (!parentsAreDirectories(into, target)) {
                throw BangerException.failedPrecondition("the workspace changed while it was copied (" + name
                        + " is under a symlink in the copy); try again");
            }
            if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                if (entry.isDirectory() && Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
                    continue;
                }
                throw BangerException.failedPrecondition("the workspace changed while it was copied (" + name
                        + " came twice); try again");
            }
            if (entry.isDirectory()) {
                Files.createDirectory(target);
                Files.setPosixFilePermissions(target, permissions(entry.getMode() | 0700));
            } else if (entry.isSymbolicLink()) {
                Files.createSymbolicLink(target, Path.of(entry.getLinkName())); // Never followed by the daemon.
                owner(target, entry);
                files.add(name);
                bytes += 4096;
            } else if (entry.isFile() && !entry.isLink() && !entry.isCharacterDevice() && !entry.isBlockDevice()
                    && !entry.isFIFO()) {
                total += entry.getSize();
                if (total > limit.bytes()) {
                    throw BangerException.failedPrecondition("the workspace holds more than " + limit.bytes()
                            + " bytes, the most banger copies for a client that is not root");
                }
                try (OutputStream out = Files.newOutputStream(target, StandardOpenOption.CREATE_NEW,
                        StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
                    tar.transferTo(out);
                }
                Files.setPosixFilePermissions(target, permissions(entry.getMode()));
                Files.setLastModifiedTime(target, FileTime.from(entry.getLastModifiedDate().toInstant()));
                owner(target, entry);
                files.add(name);
                bytes += (entry.getSize() + 4095) / 4096 * 4096 + 4096;
            }
            // Hard links (tar dereferences them), devices, fifos: left out.
        }
        return new Copied(files, bytes);
    }

    /** The entry's name relative to the copy ("" for the top): never absolute, never through .. or .git. */
    static String relativeName(String raw) {
        List<String> parts = new ArrayList<>();
        for (String part : raw.split("/")) {
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (part.equals("..") || part.equals(".git")) {
                throw BangerException.failedPrecondition("the archive of the workspace names " + raw
                        + ", which a working tree's file list never holds");
            }
            parts.add(part);
        }
        return String.join("/", parts);
    }

    /**
     * Creates the directories between {@code base} and {@code target} that are missing; false when one of them
     * is something else (a symlink above all, which the daemon must not write through).
     */
    static boolean parentsAreDirectories(Path base, Path target) throws IOException {
        return createDirectoriesInside(base, target.getParent());
    }

    /**
     * Creates {@code dir} and the directories between {@code base} and it that are missing, never following a
     * symlink; false when one of them is something other than a directory.
     */
    static boolean createDirectoriesInside(Path base, Path dir) throws IOException {
        Path at = base;
        for (Path part : base.relativize(dir)) {
            if (part.toString().isEmpty()) {
                continue;
            }
            at = at.resolve(part);
            if (!Files.exists(at, LinkOption.NOFOLLOW_LINKS)) {
                Files.createDirectory(at);
            } else if (!Files.isDirectory(at, LinkOption.NOFOLLOW_LINKS)) {
                return false;
            }
        }
        return true;
    }

    private static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> set = java.util.EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] bits = PosixFilePermission.values(); // OWNER_READ .. OTHERS_EXECUTE, high to low
        for (int i = 0; i < bits.length; i++) {
            if ((mode & (1 << (8 - i))) != 0) {
                set.add(bits[i]);
            }
        }
        return set; // Set-id and sticky bits are dropped.
    }

    /** The owner tar recorded (numeric), as a hard link in the daemon's own path would keep it. */
    private static void owner(Path target, TarArchiveEntry entry) throws IOException {
        Files.setAttribute(target, "unix:uid", (int) entry.getLongUserId(), LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(target, "unix:gid", (int) entry.getLongGroupId(), LinkOption.NOFOLLOW_LINKS);
    }

    private static BangerException tooBig(Path root) {
        return BangerException.failedPrecondition("the workspace " + root + " holds more than " + LIMIT.bytes()
                + " bytes, the most banger copies for a client that is not root");
    }

    /**
     * git's environment as the peer: no global config (the daemon's HOME is root's, which the peer may not read,
     * and git stops at a config file it cannot read).
     */
    private static final Map<String, String> GIT_ENV = gitEnv();

    private static Map<String, String> gitEnv() {
        Map<String, String> env = new HashMap<>();
        env.put("HOME", "/nonexistent");
        env.put("XDG_CONFIG_HOME", null);
        env.put("GIT_CONFIG_GLOBAL", "/dev/null");
        return env;
    }

    /** What git printed, and how it ended. */
    private record Git(ClientFiles.Ran ran, String stdout) {
    }

    private Git git(Peer peer, Path dir, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ClientFiles.Ran ran = clientFiles.runAs(peer, WorkspaceService.gitArgv(dir, args), GIT_ENV, null, in -> {
            byte[] buf = new byte[64 * 1024];
            int n;
            while ((n = in.read(buf)) > 0) {
                if (out.size() + n > MAX_LISTING) {
                    throw BangerException.failedPrecondition("git lists more than " + MAX_LISTING + " bytes of "
                            + "names in " + dir + ", more than banger copies for a client that is not root");
                }
                out.write(buf, 0, n);
            }
        });
        return new Git(ran, out.toString(StandardCharsets.UTF_8));
    }

    private static String checked(Peer peer, Path root, Git git) {
        if (!git.ran().succeeded()) {
            throw BangerException.failedPrecondition("git failed in the workspace " + root + " as user "
                    + peer.user() + ": " + git.ran().firstError());
        }
        return git.stdout();
    }
}
