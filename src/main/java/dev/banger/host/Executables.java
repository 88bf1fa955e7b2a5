package dev.banger.host;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Finds programs, so a missing tool is reported before it is run, with what to do about it. The search path is
 * PATH followed by the sbin and bin directories: a daemon started by cron or systemd, or a non-root user, often
 * lacks the sbin directories where mkfs.ext4, resize2fs and ip live.
 */
public final class Executables {

    private static final String SYSTEM_DIRS = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    private final String path;

    /** Searches exactly {@code path} (a PATH-style list); tests use it to present other hosts. */
    public Executables(String path) {
        this.path = path == null ? "" : path;
    }

    public static Executables fromEnvironment() {
        String path = System.getenv("PATH");
        return new Executables((path == null ? "" : path) + File.pathSeparator + SYSTEM_DIRS);
    }

    public Optional<Path> find(String program) {
        for (String dir : path.split(File.pathSeparator)) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(dir, program);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    public boolean has(String program) {
        return find(program).isPresent();
    }
}
