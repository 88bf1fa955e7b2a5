package dev.banger.image.registry;

import java.io.IOException;
import java.net.http.HttpClient;

/** An image in an OCI distribution (v2) registry. */
final class RegistryImageSource implements ImageSource {

    private final ImageReference image;
    private final RegistryClient client;

    RegistryImageSource(ImageReference image, HttpClient http, DockerCredentials credentials, boolean insecure) {
        this.image = image;
        this.client = new RegistryClient(image, http, credentials, insecure);
    }

    @Override
    public String reference() {
        return image.toString();
    }

    @Override
    public ResolvedImage resolve() {
        String what = image.toString();
        ManifestPuller.Fetched top = client.call(new ManifestPuller(image, image.manifestReference()));
        if (image.digest() != null) {
            Digest actual = image.digest().algorithm().equals("sha256") ? top.digest()
                    : Digest.of(image.digest().algorithm(), feed(image.digest(), top.body()));
            if (!actual.equals(image.digest())) {
                throw new UnexpectedBlobDigestException("manifest of " + what, image.digest(), actual);
            }
        }
        Manifests.Parsed parsed = Manifests.parse(top.body(), top.contentType(), "manifest of " + what);
        Manifests.ImageManifest manifest = PlatformResolver.resolve(parsed, Platform.LINUX_AMD64,
                this::fetchManifest, what);
        return new ResolvedImage(image.digest() != null ? image.digest() : top.digest(), manifest.config(),
                manifest.layers());
    }

    private Manifests.Parsed fetchManifest(Descriptor descriptor, String what) {
        ManifestPuller.Fetched fetched = client.call(new ManifestPuller(image, descriptor.digest().toString()));
        Digest actual = descriptor.digest().algorithm().equals("sha256") ? fetched.digest()
                : Digest.of(descriptor.digest().algorithm(), feed(descriptor.digest(), fetched.body()));
        if (!actual.equals(descriptor.digest())) {
            throw new UnexpectedBlobDigestException(what, descriptor.digest(), actual);
        }
        if (fetched.body().length != descriptor.size()) {
            throw new UnexpectedBlobSizeException(what, descriptor.size(), fetched.body().length, false);
        }
        return Manifests.parse(fetched.body(), fetched.contentType(), what);
    }

    @Override
    public ContentStore.Ingested fetch(Descriptor blob, ContentStore store, BlobListener listener, String what)
            throws IOException {
        return store.ingest(blob, () -> client.call(new BlobPuller(image, blob)), listener,
                what + " (" + blob.digest() + ") of " + image);
    }

    private static java.security.MessageDigest feed(Digest digest, byte[] body) {
        java.security.MessageDigest hasher = digest.newHasher();
        hasher.update(body);
        return hasher;
    }
}
