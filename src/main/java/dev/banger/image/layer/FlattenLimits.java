package dev.banger.image.layer;

/**
 * Bounds on what an image may unpack to, against decompression bombs.
 *
 * @param maxBytes total bytes of regular-file content over all layers (as the layers state them: a run of zeros
 *     counts, though it is staged as a hole)
 * @param maxEntries total tar entries over all layers
 * @param maxExpansion how many times its compressed size one layer may unpack to (its decompressed tar stream, and
 *     the file content it states), once past {@code expansionFloorBytes}
 * @param expansionFloorBytes what any layer may unpack to whatever its compressed size
 */
public record FlattenLimits(long maxBytes, long maxEntries, long maxExpansion, long expansionFloorBytes) {

    /** A layer may expand 100 times over its compressed size (real layers: 2 to 10 times), 1 GiB in any case. */
    public static final long DEFAULT_MAX_EXPANSION = 100;
    public static final long DEFAULT_EXPANSION_FLOOR = 1L << 30;
    /** 64 GiB and 4 million entries: far above any real root filesystem, far below a full disk. */
    public static final FlattenLimits DEFAULT = new FlattenLimits(64L << 30, 4_000_000);

    public FlattenLimits {
        if (maxBytes <= 0 || maxEntries <= 0 || maxExpansion <= 0 || expansionFloorBytes <= 0) {
            throw new IllegalArgumentException("flatten limits must be positive: " + maxBytes + " bytes, "
                    + maxEntries + " entries, expansion " + maxExpansion + " times, floor " + expansionFloorBytes
                    + " bytes");
        }
    }

    /** The default expansion bounds. */
    public FlattenLimits(long maxBytes, long maxEntries) {
        this(maxBytes, maxEntries, DEFAULT_MAX_EXPANSION, DEFAULT_EXPANSION_FLOOR);
    }

    public FlattenLimits withExpansion(long times, long floorBytes) {
        return new FlattenLimits(maxBytes, maxEntries, times, floorBytes);
    }

    /** What a layer of {@code compressedBytes} may unpack to: {@code max(floor, maxExpansion × compressed)}. */
    public long layerLimit(long compressedBytes) {
        long scaled = compressedBytes > Long.MAX_VALUE / maxExpansion ? Long.MAX_VALUE
                : compressedBytes * maxExpansion;
        return Math.max(expansionFloorBytes, scaled);
    }
}
