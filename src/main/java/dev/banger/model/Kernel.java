package dev.banger.model;

import java.time.Instant;
import java.util.Objects;

/**
 * A guest kernel banger can boot: its name, whether VMs created without {@code --kernel} use it, and its
 * artifacts (kernel image, modules initramfs, module list, version, source).
 */
public record Kernel(String name, KernelArtifacts artifacts, boolean isDefault, Instant createdAt) {

    public Kernel {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(artifacts, "artifacts");
        Objects.requireNonNull(createdAt, "createdAt");
    }

    public String version() {
        return artifacts.version();
    }
}
