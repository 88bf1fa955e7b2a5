package dev.banger.image;

/**
 * Hears how a pull is going, so the daemon can stream progress bars. Called from the pulling thread and from
 * download threads, possibly at once: implementations must be thread-safe, quick, and must not throw.
 */
public interface PullListener {

    /** A new stage began: "resolving …", "applying layer 2/3", "building the ext4 root disk". */
    default void step(String description) {
    }

    /** Bytes of one layer arrived, or the layer finished (fetched or found in the content store). */
    default void layer(LayerProgress progress) {
    }

    PullListener NONE = new PullListener() {
    };

    /**
     * @param index 1-based position of the layer, bottom first
     * @param count the image's number of layers
     * @param digest the layer blob's digest
     * @param bytesDone bytes fetched so far (equal to bytesTotal once finished)
     * @param bytesTotal the layer blob's size
     * @param state where the layer stands
     */
    record LayerProgress(int index, int count, String digest, long bytesDone, long bytesTotal, State state) {
    }

    enum State {
        /** Bytes are arriving. */
        FETCHING,
        /** Fetched and verified now. */
        FETCHED,
        /** Already in the content store: nothing was downloaded. */
        CACHED
    }
}
