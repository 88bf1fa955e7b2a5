package dev.banger.ssh;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.util.Set;

/**
 * The directory a VM's work disk is built from ({@code mkfs.ext4 -d} keeps owners and modes), which becomes the
 * guest's {@code /root}. sshd's StrictModes checks every step of the way to {@code authorized_keys}, so the layout
 * is exact: the seed dir itself 0755 root:root, {@code .ssh} 0700, {@code .ssh/authorized_keys} 0600, and the VM's
 * host key where banger-init hands it to sshd ({@code -h}): {@code .banger/ssh/ssh_host_ed25519_key} 0600 (+
 * {@code .pub} 0644), its directories 0700. Everything is owned by root when the daemon runs as root (it does; as
 * another user the files keep that user, which StrictModes rejects). Other parts of banger (the workspace) add
 * their own entries to {@link #dir()}.
 */
public final class WorkDiskSeed {

    /** Paths inside the work disk, i.e. below the guest's /root. */
    public static final String AUTHORIZED_KEYS = ".ssh/authorized_keys";
    public static final String HOST_KEY = ".banger/ssh/ssh_host_ed25519_key";
    /**
     * Present on a new work disk: asks banger-init's first boot to copy the image's own /root in (what the work
     * disk hides), then it removes the file. Must match SEED_IMAGE_HOME_MARKER in guest/src/posture.h.
     */
    public static final String SEED_IMAGE_HOME = ".banger/seed-image-home";
    /** Where banger-init looks for the host key (the work disk is mounted on /root). */
    public static final String GUEST_HOST_KEY = "/root/" + HOST_KEY;

    private static final Set<PosixFilePermission> DIR_0755 = PosixFilePermissions.fromString("rwxr-xr-x");
    private static final boolean RUNNING_AS_ROOT = "root".equals(System.getProperty("user.name"));

    private final Path dir;

    private WorkDiskSeed(Path dir) {
        this.dir = dir;
    }

    /** Creates the (empty) seed directory {@code dir}, 0755; its parent must exist and {@code dir} must not. */
    public static WorkDiskSeed create(Path dir) {
        try {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(DIR_0755));
            Files.setPosixFilePermissions(dir, DIR_0755);
            rootOwned(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the work-disk seed " + dir + ": " + e.getMessage(), e);
        }
        return new WorkDiskSeed(dir);
    }

    public Path dir() {
        return dir;
    }

    /** Writes {@code .ssh/authorized_keys} with the given public key lines (replacing it). */
    public WorkDiskSeed authorize(String... publicKeys) {
        StringBuilder text = new StringBuilder();
        for (String key : publicKeys) {
            text.append(key.strip()).append('\n');
        }
        try {
            Path ssh = privateDir(".ssh");
            writeFile(ssh.resolve("authorized_keys"), text.toString(), SshFiles.FILE_0600);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write authorized_keys into " + dir + ": " + e.getMessage(), e);
        }
        return this;
    }

    /** Writes the VM's host key pair where banger-init finds it. */
    public WorkDiskSeed hostKey(SshKeyPair key) {
        try {
            privateDir(".banger");
            Path sshDir = privateDir(".banger/ssh");
            Path file = sshDir.resolve("ssh_host_ed25519_key");
            writeFile(file, key.privateKey(), SshFiles.FILE_0600);
            writeFile(file.resolveSibling("ssh_host_ed25519_key.pub"), key.publicKey() + "\n", SshFiles.FILE_0644);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the host key into " + dir + ": " + e.getMessage(), e);
        }
        return this;
    }

    /**
     * Asks the guest's first boot to copy the image's /root into this disk. The copy happens in the guest, where
     * the image's files are only as trusted as the guest itself: the daemon never parses an image's file system
     * or writes what it holds on the host. Entries already on the disk (banger's keys, the workspace) win.
     */
    public WorkDiskSeed seedImageHome() {
        try {
            privateDir(".banger");
            writeFile(dir.resolve(SEED_IMAGE_HOME), "", SshFiles.FILE_0600);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + SEED_IMAGE_HOME + " into " + dir + ": "
                    + e.getMessage(), e);
        }
        return this;
    }

    private Path privateDir(String relative) throws IOException {
        Path d = dir.resolve(relative);
        if (Files.isSymbolicLink(d)) {
            throw new IOException(d + " is a symbolic link");
        }
        if (!Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS)) {
            Files.createDirectory(d, PosixFilePermissions.asFileAttribute(SshFiles.DIR_0700));
        }
        Files.setPosixFilePermissions(d, SshFiles.DIR_0700);
        rootOwned(d);
        return d;
    }

    private static void writeFile(Path file, String text, Set<PosixFilePermission> mode) throws IOException {
        Files.deleteIfExists(file);
        Files.createFile(file, PosixFilePermissions.asFileAttribute(mode));
        Files.writeString(file, text, StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(file, mode);
        rootOwned(file);
    }

    /** chown 0:0, when this process may (it runs as root); otherwise the files keep the current user. */
    private static void rootOwned(Path path) throws IOException {
        if (!RUNNING_AS_ROOT) {
            return;
        }
        PosixFileAttributeView view = Files.getFileAttributeView(path, PosixFileAttributeView.class,
                LinkOption.NOFOLLOW_LINKS);
        UserPrincipalLookupService lookup = path.getFileSystem().getUserPrincipalLookupService();
        UserPrincipal root = lookup.lookupPrincipalByName("root");
        GroupPrincipal rootGroup = lookup.lookupPrincipalByGroupName("root");
        view.setOwner(root);
        view.setGroup(rootGroup);
    }
}
