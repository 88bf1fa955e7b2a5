package dev.banger.image.rootfs;

import dev.banger.image.layer.StagingTree;
import dev.banger.image.layer.UnsafePathException;
import dev.banger.ssh.SshdDropIn;
import java.io.IOException;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.Optional;

/**
 * Prepares a flattened image tree to boot as a banger guest. banger boots every guest through its own initramfs,
 * whose init mounts this root and switches to it, so nothing banger-specific goes in except: the hardened sshd
 * drop-in ({@link SshdDropIn}) when the image has sshd, an {@code Include} of the drop-in directory when the
 * image's sshd_config lacks one, default {@code /etc/hostname} and {@code /etc/hosts} when the image has none
 * (banger-init sets the real hostname at boot), and the mount points banger-init uses, with /root 0755 root:root
 * because sshd's StrictModes checks it. All writes go through {@link StagingTree}, so an image whose /etc or
 * /etc/ssh is a symlink cannot make banger write outside the tree.
 */
public final class RootfsFinalizer {

    static final String DEFAULT_HOSTNAME = "banger";
    static final String DEFAULT_HOSTS = """
            127.0.0.1\tlocalhost
            127.0.1.1\tbanger
            ::1\tlocalhost ip6-localhost ip6-loopback
            ff02::1\tip6-allnodes
            ff02::2\tip6-allrouters
            """;
    static final String SSHD_INCLUDE = "Include /etc/ssh/sshd_config.d/*.conf";
    private static final List<String> SSHD_BINARIES = List.of("usr/sbin/sshd", "sbin/sshd", "usr/bin/sshd");
    private static final List<String> MOUNT_POINTS = List.of("proc", "sys", "dev", "run");

    private RootfsFinalizer() {
    }

    /**
     * Finalises {@code tree} in place.
     *
     * @throws RootfsException when a path banger must write is unsafe (e.g. /etc is a symlink) or the disk fails
     */
    public static void finalizePulledRootfs(StagingTree tree) {
        try {
            tree.ensureDirectory("", 0755);
            for (String dir : MOUNT_POINTS) {
                tree.ensureDirectory(dir, 0755);
            }
            tree.ensureDirectory("tmp", 01777);
            tree.ensureDirectory("root", 0755);
            tree.ensureDirectory("etc", 0755);
            if (isEmpty(tree, "etc/hostname")) {
                tree.writeFile("etc/hostname", DEFAULT_HOSTNAME + "\n", 0644);
            }
            if (isEmpty(tree, "etc/hosts")) {
                tree.writeFile("etc/hosts", DEFAULT_HOSTS, 0644);
            }
            if (hasSshd(tree)) {
                tree.writeFile(SshdDropIn.PATH, SshdDropIn.TEXT, 0644);
                Optional<String> config = tree.readText("etc/ssh/sshd_config", 1 << 20);
                if (config.isPresent() && !config.get().contains("sshd_config.d/")) {
                    tree.writeFile("etc/ssh/sshd_config", SSHD_INCLUDE + "\n" + config.get(), 0644);
                }
            }
        } catch (UnsafePathException e) {
            throw new RootfsException("cannot finalise the image: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new RootfsException("cannot finalise the image in " + tree.root() + ": " + e.getMessage(), e);
        }
    }

    /** True when the image ships an sshd binary (or a symlink to one) at a usual place. */
    static boolean hasSshd(StagingTree tree) throws IOException {
        for (String path : SSHD_BINARIES) {
            Optional<BasicFileAttributes> a;
            try {
                a = tree.attributes(path);
            } catch (UnsafePathException e) {
                continue;
            }
            if (a.isPresent() && (a.get().isRegularFile() || a.get().isSymbolicLink())) {
                return true;
            }
        }
        return false;
    }

    private static boolean isEmpty(StagingTree tree, String path) throws IOException {
        Optional<BasicFileAttributes> a = tree.attributes(path);
        if (a.isEmpty()) {
            return true;
        }
        if (!a.get().isRegularFile()) {
            return !a.get().isDirectory();
        }
        return tree.readText(path, 4096).map(String::isBlank).orElse(true);
    }
}
