package dev.banger.config;

import dev.banger.json.Json;
import dev.banger.json.JsonException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The daemon's settings, read from {@code config.json} in the config dir. Every field is optional; a missing
 * file means all defaults.
 *
 * @param socketGroup a group whose members may use the daemon (socket 0660), or null for the owner only
 * @param defaultCpus vCPUs of a VM created without {@code --cpus}
 * @param defaultMemoryMib memory of a VM created without {@code --memory}
 * @param defaultDiskMib work-disk size of a VM created without {@code --disk}
 * @param defaultImage image of a VM created without {@code --image}
 * @param bootTimeoutSeconds how long a booting guest may take to answer its agent
 */
public record DaemonConfig(String socketGroup, Integer defaultCpus, Integer defaultMemoryMib, Long defaultDiskMib,
                           String defaultImage, Integer bootTimeoutSeconds) {

    public static final DaemonConfig DEFAULTS = new DaemonConfig(null, 2, 1024, 4096L, null, 60);

    public Optional<String> defaultImageName() {
        return Optional.ofNullable(defaultImage).filter(g -> !g.isBlank());
    }

    public java.time.Duration bootTimeout() {
        return java.time.Duration.ofSeconds(bootTimeoutSeconds != null ? bootTimeoutSeconds
                : DEFAULTS.bootTimeoutSeconds);
    }

    public Optional<String> socketGroupName() {
        return Optional.ofNullable(socketGroup).filter(g -> !g.isBlank());
    }

    public int cpus() {
        return defaultCpus != null ? defaultCpus : DEFAULTS.defaultCpus;
    }

    public int memoryMib() {
        return defaultMemoryMib != null ? defaultMemoryMib : DEFAULTS.defaultMemoryMib;
    }

    public long diskMib() {
        return defaultDiskMib != null ? defaultDiskMib : DEFAULTS.defaultDiskMib;
    }

    /** Reads {@code file}; absent means defaults. @throws IllegalArgumentException naming the file on bad JSON */
    public static DaemonConfig load(Path file) {
        if (!Files.exists(file)) {
            return DEFAULTS;
        }
        try {
            return Json.read(Files.readString(file), DaemonConfig.class);
        } catch (IOException | JsonException e) {
            throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage()
                    + " (fix or remove the file)");
        }
    }
}
