package dev.banger.kernel;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** Finds programs on PATH, so a missing tool is reported before it is run, with what to do about it. */
final class Executables {

    private final String path;

    Executables(String path) {
        this.path = path == null ? "" : path;
    }

    static Executables fromEnvironment() {
        String path = System.getenv("PATH");
        // Daemons started from cron or systemd may lack the sbin directories where some of our tools live.
        return new Executables((path == null ? "" : path) + File.pathSeparator + "/usr/sbin:/sbin:/usr/bin:/bin");
    }

    Optional<Path> find(String program) {
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

    boolean has(String program) {
        return find(program).isPresent();
    }
}
