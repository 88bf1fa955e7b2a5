package dev.banger.image.registry;

import java.net.http.HttpClient;

/** Turns what a user typed into an {@link ImageSource}. */
public final class ImageSources {

    private ImageSources() {
    }

    /** A shared HTTP client configured as registry calls need it; create one per daemon. */
    public static HttpClient newHttpClient() {
        return RegistryClient.newHttpClient();
    }

    /**
     * Opens {@code reference}: {@code oci-layout:DIR[:TAG]}, {@code docker-archive:FILE[:REPO:TAG]}, or a registry
     * reference (optionally prefixed {@code docker://}).
     *
     * @param insecure allow plain HTTP to this registry even though it is not on loopback
     * @throws IllegalArgumentException when the reference is malformed or names no existing directory/file
     */
    public static ImageSource open(String reference, HttpClient http, DockerCredentials credentials,
                                   boolean insecure) {
        if (reference == null || reference.isBlank()) {
            throw new IllegalArgumentException("empty image reference");
        }
        if (reference.startsWith(OciLayoutSource.PREFIX)) {
            return OciLayoutSource.parse(reference.substring(OciLayoutSource.PREFIX.length()));
        }
        if (reference.startsWith(DockerArchiveSource.PREFIX)) {
            return DockerArchiveSource.parse(reference.substring(DockerArchiveSource.PREFIX.length()));
        }
        String ref = reference.startsWith("docker://") ? reference.substring("docker://".length()) : reference;
        return new RegistryImageSource(ImageReference.parse(ref), http, credentials, insecure);
    }
}
