package dev.banger.model;

import java.util.Objects;

/**
 * Where an imported kernel came from, for {@code kernel show}.
 *
 * @param kind how it was obtained
 * @param reference the package name and version, or the file that was imported
 */
public record KernelSource(Kind kind, String reference) {

    public enum Kind {
        /** {@code kernel pull}: downloaded from the host's apt sources. */
        APT,
        /** {@code kernel import} of a Debian linux-image .deb. */
        DEB,
        /** {@code kernel import} of a bare vmlinux/bzImage (and optional modules directory). */
        FILE
    }

    public KernelSource {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(reference, "reference");
    }
}
