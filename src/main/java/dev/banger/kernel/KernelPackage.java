package dev.banger.kernel;

/**
 * A distribution kernel package that can be downloaded.
 *
 * @param name {@code linux-image-<release>}, e.g. linux-image-6.1.0-57-cloud-amd64
 * @param version the package's Version (6.1.158-1), or null when apt did not say
 * @param size the .deb's size in bytes, or -1 when unknown
 */
public record KernelPackage(String name, String version, long size) {

    private static final String PREFIX = "linux-image-";

    public KernelPackage {
        if (!name.startsWith(PREFIX) || name.length() == PREFIX.length()) {
            throw new KernelFetchException("apt named " + name + " as the kernel package, expected "
                    + PREFIX + "<release>");
        }
    }

    /** The kernel release the package installs, as {@code uname -r} prints it: its name without linux-image-. */
    public String release() {
        return name.substring(PREFIX.length());
    }
}
