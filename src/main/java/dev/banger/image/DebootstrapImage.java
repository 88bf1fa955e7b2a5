package dev.banger.image;

import dev.banger.host.Command;
import dev.banger.host.CommandFailedException;
import dev.banger.host.CommandRunner;
import dev.banger.host.Executables;
import dev.banger.image.layer.StagingTree;
import dev.banger.image.rootfs.Ext4Builder;
import dev.banger.image.rootfs.RootfsFinalizer;
import dev.banger.util.Files2;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Builds banger's default image with debootstrap from the host's own apt mirror, for the host's release (bookworm
 * when the host is not Debian): a developer sandbox, so `vm run -- make test` finds its tools. Debian minbase
 * plus {@link #PACKAGES} (the buildd variant, required + build-essential, gives the same size and was no faster;
 * minbase + --include says what is in it). The image's own sshd host keys are removed: every VM gets its own.
 */
final class DebootstrapImage {

    static final List<String> PACKAGES = List.of("build-essential", "git", "curl", "ca-certificates", "python3",
            "procps", "less", "openssh-server", "iproute2", "iputils-ping");
    static final String FALLBACK_MIRROR = "http://deb.debian.org/debian";
    static final String FALLBACK_SUITE = "bookworm";
    static final long HEADROOM_BYTES = 2L << 30;
    /** What the first use measured (FirstUseIT; README). */
    static final String TYPICAL_TIME = "5 to 15 minutes";

    private final CommandRunner runner;
    private final Executables executables;

    DebootstrapImage(CommandRunner runner, Executables executables) {
        this.runner = runner;
        this.executables = executables;
    }

    boolean available() {
        return executables.has("debootstrap");
    }

    /** The Debian release to build: the host's, when it is Debian. */
    static String suite(Path osRelease) {
        try {
            Map<String, String> fields = new java.util.HashMap<>();
            for (String line : Files.readAllLines(osRelease)) {
                int eq = line.indexOf('=');
                if (eq > 0) {
                    fields.put(line.substring(0, eq), line.substring(eq + 1).replace("\"", ""));
                }
            }
            if ("debian".equals(fields.get("ID")) && fields.get("VERSION_CODENAME") != null
                    && !fields.get("VERSION_CODENAME").isBlank()) {
                return fields.get("VERSION_CODENAME");
            }
        } catch (IOException e) {
            // Not readable: the fallback release.
        }
        return FALLBACK_SUITE;
    }

    /** The Debian mirror the host's apt uses (deb822 .sources or sources.list), else deb.debian.org. */
    static String mirror(Path aptDir) {
        List<Path> files = new ArrayList<>();
        files.add(aptDir.resolve("sources.list"));
        try (DirectoryStream<Path> d = Files.newDirectoryStream(aptDir.resolve("sources.list.d"), "*.{sources,list}")) {
            d.forEach(files::add);
        } catch (IOException e) {
            // No sources.list.d.
        }
        for (Path file : files) {
            try {
                for (String raw : Files.readAllLines(file)) {
                    String line = raw.strip();
                    String url = null;
                    if (line.startsWith("URIs:")) {
                        url = line.substring("URIs:".length()).strip().split("\\s+")[0];
                    } else if (line.startsWith("deb ")) {
                        for (String word : line.split("\\s+")) {
                            if (word.startsWith("http://") || word.startsWith("https://")) {
                                url = word;
                                break;
                            }
                        }
                    }
                    if (url != null && url.matches("https?://\\S+/debian/?") ) {
                        return url.replaceAll("/$", "");
                    }
                }
            } catch (IOException e) {
                // Unreadable file: try the next.
            }
        }
        return FALLBACK_MIRROR;
    }

    /** Builds the image into {@code rootfs}; {@code staging} is a fresh work directory, removed afterwards. */
    long build(Path staging, Path rootfs, Consumer<String> progress) throws IOException {
        String suite = suite(Path.of("/etc/os-release"));
        String mirror = mirror(Path.of("/etc/apt"));
        Path tree = staging.resolve("rootfs");
        try {
            progress.accept("debootstrap " + suite + " from " + mirror + " (Debian minbase + "
                    + String.join(", ", PACKAGES) + "; " + TYPICAL_TIME + ")");
            DebootstrapProgress packages = new DebootstrapProgress(progress, System::nanoTime);
            try {
                runner.run(Command.of("debootstrap", "--variant=minbase", "--include=" + String.join(",", PACKAGES),
                        suite, tree.toString(), mirror).withTimeout(Duration.ofMinutes(30)).withOutputLines(packages));
            } finally {
                packages.flush();
            }
            for (Path key : glob(tree.resolve("etc/ssh"), "ssh_host_*")) {
                Files.delete(key);
            }
            Files2.deleteRecursively(tree.resolve("var/cache/apt/archives"));
            Files.createDirectories(tree.resolve("var/cache/apt/archives/partial"));
            progress.accept("finalising the root filesystem");
            RootfsFinalizer.finalizePulledRootfs(new StagingTree(tree));
            progress.accept("building the ext4 root disk");
            return new Ext4Builder(runner, executables).build(tree, rootfs, HEADROOM_BYTES);
        } catch (CommandFailedException e) {
            throw new ImageException("debootstrap failed: " + e.getMessage());
        } finally {
            Files2.deleteRecursively(staging);
        }
    }

    private static List<Path> glob(Path dir, String pattern) throws IOException {
        List<Path> found = new ArrayList<>();
        if (Files.isDirectory(dir)) {
            try (DirectoryStream<Path> d = Files.newDirectoryStream(dir, pattern)) {
                d.forEach(found::add);
            }
        }
        return found;
    }

}
