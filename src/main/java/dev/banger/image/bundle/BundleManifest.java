package dev.banger.image.bundle;

import java.util.List;
import java.util.Map;

/**
 * {@code manifest.json}, the last entry of an image bundle: what the bundle holds and how to check it.
 *
 * @param format always {@link #FORMAT}
 * @param version the bundle format's version ({@link #VERSION})
 * @param createdAt when the bundle was written (ISO-8601)
 * @param image the image's record
 * @param kernel the bundled kernel's record, or null when the bundle has none
 * @param files every other entry of the bundle, each with its size and SHA-256
 */
public record BundleManifest(String format, int version, String createdAt, ImageEntry image, KernelEntry kernel,
                             List<FileEntry> files) {

    public static final String FORMAT = "banger-image-bundle";
    public static final int VERSION = 1;

    /** The image as {@code image show} knows it: name, where it came from, its config. */
    public record ImageEntry(String name, String source, String digest, long sizeBytes, Map<String, String> env,
                             String workingDir, List<String> entrypoint, List<String> cmd) {
    }

    /**
     * A kernel as {@code kernel show} knows it.
     *
     * @param format the kernel image's layout ({@code ELF}, {@code BZIMAGE})
     * @param sourceKind {@code APT}, {@code DEB} or {@code FILE}
     */
    public record KernelEntry(String name, String version, String format, List<String> modules, String sourceKind,
                              String sourceReference) {
    }

    /**
     * One file of the bundle.
     *
     * @param path its entry name, one of {@link BundleLayout#FILES}
     * @param sha256 lower-case hex
     */
    public record FileEntry(String path, long size, String sha256) {
    }
}
