package dev.banger.image.registry;

/** Follows an index to the manifest for one platform; shared by every source that serves manifests. */
final class PlatformResolver {

    /** Fetches a manifest by descriptor (verifying digest and size) and returns its body and media type. */
    interface ManifestFetcher {
        Manifests.Parsed fetch(Descriptor manifest, String what);
    }

    private PlatformResolver() {
    }

    /**
     * @param top the parsed manifest the reference named
     * @param what names the reference in errors
     */
    static Manifests.ImageManifest resolve(Manifests.Parsed top, Platform platform, ManifestFetcher fetcher,
                                           String what) {
        Manifests.Parsed current = top;
        String currentWhat = what;
        for (int depth = 0; depth < 4; depth++) {
            if (current instanceof Manifests.ImageManifest m) {
                return m;
            }
            Descriptor chosen = ((Manifests.ImageIndex) current).select(platform, currentWhat);
            currentWhat = what + " (" + platform + " manifest " + chosen.digest() + ")";
            current = fetcher.fetch(chosen, currentWhat);
        }
        throw new ManifestException(what + ": indexes nested too deep");
    }
}
