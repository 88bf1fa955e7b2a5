package dev.banger.testkit;

import dev.banger.host.Command;
import dev.banger.ssh.SshdDropIn;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A guest root filesystem with a real sshd: the busybox tree of {@link TestAssets#busyboxRootfs()} plus the host's
 * {@code /usr/sbin/sshd}, every library {@code ldd} lists for it (and an ld.so.cache made by {@code ldconfig -r}),
 * and the files sshd needs: {@code /etc/passwd} with root and the privilege-separation user, nsswitch, an
 * {@code sshd_config} that includes {@code sshd_config.d} where banger's hardened drop-in lies. No host keys: the
 * guest must use the one banger generated for the VM. Built into a directory the caller owns (a second or two).
 */
public final class SshdRootfs {

    public static final Path HOST_SSHD = Path.of("/usr/sbin/sshd");
    private static final Pattern LDD_PATH = Pattern.compile("(?:=>\\s*)?(/\\S+)\\s+\\(0x");

    private SshdRootfs() {
    }

    /** Whether this host can provide sshd for a test guest. */
    public static boolean available() {
        return Files.isExecutable(HOST_SSHD);
    }

    /** Builds {@code <dir>/sshd-rootfs.ext4} (96 MiB) and returns it. */
    public static Path build(Path dir) {
        return build(dir, false);
    }

    /**
     * As {@link #build(Path)}, with the host's git too ({@code /usr/bin/git}, its libraries, and git's exec path
     * holding only the git binary: the builtins are all a guest repository needs).
     */
    public static Path buildWithGit(Path dir) {
        return build(dir, true);
    }

    /**
     * As {@link #build(Path)}, but as a registered image from elsewhere might be: no banger drop-in, a
     * {@code 50-cloud-init.conf} that says the opposite of banger's policy ({@code PasswordAuthentication yes},
     * {@code PermitRootLogin yes}), and dotfiles in {@code /root}: {@code .profile} (0644),
     * {@code .config/tool/settings} (0640, owned 1234:2345) and {@code .vimrc}, a symlink to it.
     */
    public static Path buildLikeCloudImage(Path dir) {
        return build(dir, false, true);
    }

    private static Path build(Path dir, boolean withGit) {
        return build(dir, withGit, false);
    }

    private static Path build(Path dir, boolean withGit, boolean cloudLike) {
        Path tree = dir.resolve("sshd-rootfs");
        Path image = dir.resolve("sshd-rootfs.ext4");
        try {
            for (String d : List.of("bin", "sbin", "usr/bin", "usr/sbin", "etc/ssh/sshd_config.d", "dev", "proc", "sys",
                    "tmp", "run", "root", "var/empty", "var/log", "mnt")) {
                Files.createDirectories(tree.resolve(d));
            }
            Path busybox = TestAssets.busybox();
            Files.copy(busybox, tree.resolve("bin/busybox"));
            tree.resolve("bin/busybox").toFile().setExecutable(true, false);
            for (String applet : TestAssets.runner().run(busybox.toString(), "--list-full").stdoutText().split("\n")) {
                String rel = applet.strip();
                Path link = tree.resolve(rel);
                if (rel.isEmpty() || rel.equals("bin/busybox") || Files.exists(link, LinkOption.NOFOLLOW_LINKS)) {
                    continue;
                }
                Files.createDirectories(link.getParent());
                Files.createSymbolicLink(link, Path.of("/bin/busybox"));
            }
            copyWithParents(HOST_SSHD, tree);
            for (Path lib : libraries(HOST_SSHD)) {
                copyWithParents(lib, tree);
            }
            if (withGit) {
                Path git = Path.of("/usr/bin/git");
                copyWithParents(git, tree);
                for (Path lib : libraries(git)) {
                    copyWithParents(lib, tree);
                }
                Files.createDirectories(tree.resolve("usr/lib/git-core"));
                Files.createLink(tree.resolve("usr/lib/git-core/git"), tree.resolve("usr/bin/git"));
            }
            write(tree, "etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"
                    + "sshd:x:100:65534:privilege separation:/run/sshd:/usr/sbin/nologin\n");
            write(tree, "etc/group", "root:x:0:\nnogroup:x:65534:\n");
            write(tree, "etc/nsswitch.conf", "passwd: files\ngroup: files\nshadow: files\nhosts: files\n");
            write(tree, "etc/hostname", "sshd-test\n");
            write(tree, "etc/ssh/sshd_config", "Include /etc/ssh/sshd_config.d/*.conf\n"
                    + "UsePAM no\nPrintMotd no\nPrintLastLog no\nPidFile /run/sshd.pid\n");
            if (cloudLike) {
                write(tree, "etc/ssh/sshd_config.d/50-cloud-init.conf", "PasswordAuthentication yes\n"
                        + "PermitRootLogin yes\n");
                write(tree, "root/.profile", "export FROM_IMAGE=yes\n");
                Path settings = tree.resolve("root/.config/tool/settings");
                write(tree, "root/.config/tool/settings", "theme=dark\n");
                Files.setPosixFilePermissions(settings, java.nio.file.attribute.PosixFilePermissions.fromString(
                        "rw-r-----"));
                Files.setAttribute(settings, "unix:uid", 1234, LinkOption.NOFOLLOW_LINKS);
                Files.setAttribute(settings, "unix:gid", 2345, LinkOption.NOFOLLOW_LINKS);
                Files.createSymbolicLink(tree.resolve("root/.vimrc"), Path.of(".config/tool/settings"));
            } else {
                write(tree, SshdDropIn.PATH, SshdDropIn.TEXT);
            }
            TestAssets.runner().run("ldconfig", "-r", tree.toString());
            TestAssets.runner().run(Command.of("mkfs.ext4", "-q", "-F", "-L", "sshdtest", "-E", "root_owner=0:0",
                    "-d", tree.toString(), image.toString(), "96M"));
            return image;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            TestAssets.deleteTree(tree);
        }
    }

    /** The shared objects {@code ldd} names for {@code binary}, the dynamic loader included. */
    static List<Path> libraries(Path binary) {
        List<Path> libs = new ArrayList<>();
        for (String line : TestAssets.runner().run("ldd", binary.toString()).stdoutText().split("\n")) {
            Matcher m = LDD_PATH.matcher(line);
            if (m.find()) {
                libs.add(Path.of(m.group(1)));
            }
        }
        if (libs.isEmpty()) {
            throw new IllegalStateException("ldd listed no libraries for " + binary);
        }
        return libs;
    }

    /** Copies the file {@code path} names (following symlinks) to the same path under {@code root}. */
    private static void copyWithParents(Path path, Path root) throws IOException {
        Path target = root.resolve(path.toString().substring(1));
        Files.createDirectories(target.getParent());
        Files.copy(path, target, StandardCopyOption.REPLACE_EXISTING);
        target.toFile().setExecutable(true, false);
    }

    private static void write(Path root, String relative, String text) throws IOException {
        Path file = root.resolve(relative);
        Files.createDirectories(file.getParent());
        Files.writeString(file, text, StandardCharsets.UTF_8);
    }
}
