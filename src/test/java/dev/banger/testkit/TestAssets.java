package dev.banger.testkit;

import dev.banger.model.KernelArtifacts;
import dev.banger.host.Command;
import dev.banger.host.CommandRunner;
import dev.banger.host.ProcessCommandRunner;
import dev.banger.kernel.AptKernelDownloader;
import dev.banger.kernel.KernelImporter;
import dev.banger.kernel.ProgressListener;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * Real guest assets shared by all tests, built once and cached in {@code ${BANGER_TEST_CACHE:-~/.cache/banger-test}}:
 * Debian's cloud kernel .deb (downloaded through banger's own apt code), busybox from Debian's
 * {@code busybox-static}, and a busybox ext4 root filesystem. Safe to use from many test classes and from several
 * JVMs at once (a file lock guards the cache). Bump {@link #ROOTFS_RECIPE} when the rootfs recipe changes.
 */
public final class TestAssets {

    /** Version of the rootfs recipe below; part of the cached image's name. */
    static final int ROOTFS_RECIPE = 1;

    private static final ReentrantLock JVM_LOCK = new ReentrantLock();
    private static final CommandRunner RUNNER = new ProcessCommandRunner();
    private static KernelArtifacts importedKernel;
    private static Path importedKernelRoot;

    private TestAssets() {
    }

    public static CommandRunner runner() {
        return RUNNER;
    }

    public static Path cacheDir() {
        String env = System.getenv("BANGER_TEST_CACHE");
        Path dir = env != null && !env.isBlank() ? Path.of(env)
                : Path.of(System.getProperty("user.home"), ".cache", "banger-test");
        try {
            return Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Debian's current {@code linux-image-*-cloud-amd64} .deb, downloaded once. */
    public static Path debianCloudKernelDeb() {
        return locked(() -> {
            Path cached = findOne(cacheDir(), "linux-image-*-cloud-amd64_*.deb");
            if (cached != null) {
                return cached;
            }
            Path tmp = tempDirIn(cacheDir(), ".download-");
            try {
                Path deb = new AptKernelDownloader(RUNNER).download(AptKernelDownloader.DEBIAN_CLOUD, tmp,
                        ProgressListener.NONE);
                return Files.move(deb, cacheDir().resolve(deb.getFileName()), StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } finally {
                deleteTree(tmp);
            }
        });
    }

    /** The cloud kernel imported once per JVM (into a temp dir removed at exit). */
    public static KernelArtifacts debianCloudKernel() {
        Path deb = debianCloudKernelDeb();
        return locked(() -> {
            if (importedKernel == null) {
                try {
                    importedKernelRoot = Files.createTempDirectory("banger-test-kernel-");
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                Path root = importedKernelRoot;
                Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(root)));
                importedKernel = new KernelImporter(RUNNER).importDeb(deb, root.resolve("kernel"),
                        ProgressListener.NONE);
            }
            return importedKernel;
        });
    }

    /** A static busybox binary from Debian's busybox-static package. */
    public static Path busybox() {
        return locked(() -> {
            Path bin = cacheDir().resolve("busybox-static").resolve("busybox");
            if (Files.isExecutable(bin)) {
                return bin;
            }
            Path deb = findOne(cacheDir(), "busybox-static_*.deb");
            if (deb == null) {
                Path tmp = tempDirIn(cacheDir(), ".download-");
                try {
                    RUNNER.run(Command.of("apt-get", "download", "-q", "busybox-static").withCwd(tmp)
                            .withTimeout(Duration.ofMinutes(5)));
                    Path got = findOne(tmp, "busybox-static_*.deb");
                    deb = Files.move(got, cacheDir().resolve(got.getFileName()), StandardCopyOption.ATOMIC_MOVE);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                } finally {
                    deleteTree(tmp);
                }
            }
            Path tmp = tempDirIn(cacheDir(), ".busybox-");
            try {
                RUNNER.run("dpkg-deb", "-x", deb.toString(), tmp.toString());
                Files.createDirectories(bin.getParent());
                Path staged = bin.resolveSibling(".busybox.tmp");
                Files.copy(tmp.resolve("bin/busybox"), staged, StandardCopyOption.REPLACE_EXISTING);
                staged.toFile().setExecutable(true, false);
                return Files.move(staged, bin, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } finally {
                deleteTree(tmp);
            }
        });
    }

    /**
     * A 64 MiB ext4 root filesystem: busybox with its applets linked, a minimal /etc. Tests must attach it
     * read-only or through a qcow2 overlay, never write it.
     */
    public static Path busyboxRootfs() {
        Path busybox = busybox();
        return locked(() -> {
            Path image = cacheDir().resolve("busybox-rootfs-v" + ROOTFS_RECIPE + ".ext4");
            if (Files.isRegularFile(image)) {
                return image;
            }
            Path dir = tempDirIn(cacheDir(), ".rootfs-");
            Path staged = cacheDir().resolve(".rootfs-v" + ROOTFS_RECIPE + ".ext4.tmp");
            try {
                for (String d : List.of("bin", "sbin", "usr/bin", "usr/sbin", "etc", "dev", "proc", "sys", "tmp",
                        "run", "root", "var", "mnt")) {
                    Files.createDirectories(dir.resolve(d));
                }
                Files.copy(busybox, dir.resolve("bin/busybox"));
                dir.resolve("bin/busybox").toFile().setExecutable(true, false);
                String applets = RUNNER.run(busybox.toString(), "--list-full").stdoutText();
                for (String applet : applets.split("\n")) {
                    String rel = applet.strip();
                    if (rel.isEmpty() || rel.equals("bin/busybox")) {
                        continue;
                    }
                    Path link = dir.resolve(rel);
                    Files.createDirectories(link.getParent());
                    if (!Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                        Files.createSymbolicLink(link, Path.of("/bin/busybox"));
                    }
                }
                write(dir.resolve("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
                write(dir.resolve("etc/group"), "root:x:0:\n");
                write(dir.resolve("etc/hostname"), "banger-test\n");
                write(dir.resolve("etc/banger-test-rootfs"), "recipe " + ROOTFS_RECIPE + "\n");
                RUNNER.run("mkfs.ext4", "-q", "-F", "-L", "bangertest", "-d", dir.toString(), staged.toString(),
                        "64M");
                return Files.move(staged, image, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } finally {
                deleteTree(dir);
                try {
                    Files.deleteIfExists(staged);
                } catch (IOException ignored) {
                    // next build overwrites it (-F)
                }
            }
        });
    }

    /**
     * A root tree made by {@code debootstrap --variant=minbase SUITE DIR MIRROR}, packed (gzip, numeric owners,
     * xattrs, its /dev nodes as they are) as one OCI layer: what a distribution's base image holds. Built once per
     * cache and suite (a few minutes, from the host's Debian mirror).
     */
    public static Path debianMinbaseLayer(String suite, String mirror) {
        return locked(() -> {
            Path layer = cacheDir().resolve("debian-" + suite + "-minbase-layer.tar.gz");
            if (Files.isRegularFile(layer)) {
                return layer;
            }
            Path tree = tempDirIn(cacheDir(), ".debootstrap-");
            Path staged = cacheDir().resolve(".minbase-layer.tar.gz.tmp");
            try {
                RUNNER.run(Command.of("debootstrap", "--variant=minbase", suite, tree.toString(), mirror)
                        .withTimeout(Duration.ofMinutes(30)));
                // Without the downloaded .debs, as image builders leave a tree.
                List<String> argv = new ArrayList<>(List.of("tar", "--numeric-owner", "--xattrs",
                        "--xattrs-include=*", "--exclude=var/cache/apt/archives/*.deb", "-C", tree.toString(),
                        "-czf", staged.toString()));
                try (Stream<Path> top = Files.list(tree)) {
                    top.map(p -> p.getFileName().toString()).sorted().forEach(argv::add);
                }
                RUNNER.run(Command.of(argv).withTimeout(Duration.ofMinutes(10)));
                return Files.move(staged, layer, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } finally {
                deleteTree(tree);
                try {
                    Files.deleteIfExists(staged);
                } catch (IOException ignored) {
                    // the next build overwrites it
                }
            }
        });
    }

    /** Runs {@code action} holding both the in-JVM lock and the cache directory's file lock. */
    private static <T> T locked(Supplier<T> action) {
        JVM_LOCK.lock();
        try (FileChannel ch = FileChannel.open(cacheDir().resolve(".lock"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE)) {
            FileLock lock = ch.lock();
            try {
                return action.get();
            } finally {
                lock.release();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            JVM_LOCK.unlock();
        }
    }

    private static Path findOne(Path dir, String glob) {
        List<Path> found = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, glob)) {
            s.forEach(found::add);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        found.sort(Comparator.naturalOrder());
        return found.isEmpty() ? null : found.get(found.size() - 1);
    }

    private static Path tempDirIn(Path parent, String prefix) {
        try {
            return Files.createTempDirectory(parent, prefix);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void write(Path file, String text) throws IOException {
        Files.writeString(file, text, StandardCharsets.UTF_8);
    }

    public static void deleteTree(Path root) {
        if (root == null || !Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | UncheckedIOException e) {
            // best effort in cleanup
        }
    }
}
