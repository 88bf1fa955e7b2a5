package dev.banger.image.registry;

/** Hears how many bytes of one blob have been fetched. Called on the fetching thread; must be quick, not throw. */
@FunctionalInterface
public interface BlobListener {

    /**
     * @param done bytes fetched and verified-so-far (hashed)
     * @param total the descriptor's size
     */
    void progress(long done, long total);

    BlobListener NONE = (done, total) -> { };
}
