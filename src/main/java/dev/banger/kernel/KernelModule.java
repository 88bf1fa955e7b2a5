package dev.banger.kernel;

import java.util.Objects;

/**
 * A loadable kernel module.
 *
 * @param name canonical module name (dashes folded to underscores, as the kernel names it)
 * @param path its file relative to {@code lib/modules/<version>/}, with any compression suffix
 */
record KernelModule(String name, String path) {

    private static final String[] SUFFIXES = {".ko.xz", ".ko.zst", ".ko.gz", ".ko"};

    KernelModule {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(path, "path");
    }

    static KernelModule ofPath(String path) {
        return new KernelModule(nameOf(path), path);
    }

    /** True for {@code .ko} files, compressed or not. */
    static boolean isModuleFile(String fileName) {
        for (String suffix : SUFFIXES) {
            if (fileName.endsWith(suffix)) {
                return true;
            }
        }
        return false;
    }

    /** The module name for a path such as {@code kernel/net/vmw_vsock/vmw_vsock_virtio_transport.ko.xz}. */
    static String nameOf(String path) {
        String file = path.substring(path.lastIndexOf('/') + 1);
        for (String suffix : SUFFIXES) {
            if (file.endsWith(suffix)) {
                file = file.substring(0, file.length() - suffix.length());
                break;
            }
        }
        return canonical(file);
    }

    static String canonical(String name) {
        return name.replace('-', '_');
    }

    /** Where the uncompressed module goes inside the initramfs, relative to {@code lib/modules/<version>/}. */
    String uncompressedPath() {
        for (String suffix : SUFFIXES) {
            if (path.endsWith(suffix)) {
                return path.substring(0, path.length() - suffix.length()) + ".ko";
            }
        }
        return path;
    }
}
