package dev.banger.image.registry;

import java.io.IOException;

/**
 * Where an image comes from: a registry, an OCI layout directory or a docker-archive tarball. A source resolves a
 * reference to one linux/amd64 image and puts its blobs, verified, into a {@link ContentStore}. Implementations
 * are safe for concurrent {@link #fetch} calls once {@link #resolve} has returned.
 */
public interface ImageSource {

    /** The reference in canonical form, as recorded with the image. */
    String reference();

    /**
     * Fetches and parses the manifest (through an index, choosing linux/amd64).
     *
     * @throws ManifestException for malformed or unsupported manifests and missing platforms
     * @throws RegistryException when a registry refuses or fails
     */
    ResolvedImage resolve();

    /**
     * Makes {@code blob} available in {@code store}, fetching it only when the store lacks it.
     *
     * @param what names the blob in errors and progress ("layer 1/3")
     * @throws UnexpectedBlobDigestException or {@link UnexpectedBlobSizeException} when the content is not what the
     *     manifest promised (nothing is published then)
     */
    ContentStore.Ingested fetch(Descriptor blob, ContentStore store, BlobListener listener, String what)
            throws IOException;
}
