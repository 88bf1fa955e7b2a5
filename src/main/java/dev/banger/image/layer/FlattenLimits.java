package dev.banger.image.layer;

/**
 * Bounds on what a whole image may unpack to, against decompression bombs.
 *
 * @param maxBytes total bytes of regular-file content over all layers
 * @param maxEntries total tar entries over all layers
 */
public record FlattenLimits(long maxBytes, long maxEntries) {

    /** 64 GiB and 4 million entries: far above any real root filesystem, far below a full disk. */
    public static final FlattenLimits DEFAULT = new FlattenLimits(64L << 30, 4_000_000);

    public FlattenLimits {
        if (maxBytes <= 0 || maxEntries <= 0) {
            throw new IllegalArgumentException("flatten limits must be positive: " + maxBytes + " bytes, "
                    + maxEntries + " entries");
        }
    }
}
