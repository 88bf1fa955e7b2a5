package dev.banger.image.registry;

/**
 * The platform an index entry is built for.
 *
 * @param variant the CPU variant (e.g. "v8"), or null
 */
public record Platform(String os, String architecture, String variant) {

    /** What banger's guests run. */
    public static final Platform LINUX_AMD64 = new Platform("linux", "amd64", null);

    /** True when this platform runs where {@code wanted} does (the variant is ignored for amd64). */
    public boolean matches(Platform wanted) {
        return wanted.os.equals(os) && wanted.architecture.equals(architecture)
                && (wanted.variant == null || wanted.variant.equals(variant));
    }

    @Override
    public String toString() {
        return os + "/" + architecture + (variant != null ? "/" + variant : "");
    }
}
