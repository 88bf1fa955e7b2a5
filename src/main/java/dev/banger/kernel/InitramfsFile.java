package dev.banger.kernel;

import java.nio.file.Path;
import java.util.Objects;

/**
 * A host file to place in the initramfs next to {@code /init}.
 *
 * @param path absolute path inside the initramfs, e.g. {@code /bin/busybox}
 * @param source the host file to copy
 * @param permissions permission bits, e.g. {@code 0755}
 */
public record InitramfsFile(String path, Path source, int permissions) {

    public InitramfsFile {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(source, "source");
        if (!path.startsWith("/") || path.equals("/")) {
            throw new IllegalArgumentException("initramfs path must be absolute and name a file: " + path);
        }
    }
}
