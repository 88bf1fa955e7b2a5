package dev.banger.image.registry;

import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.util.List;

/** GET {@code /v2/NAME/manifests/REFERENCE}: the manifest or index body, its media type and its digest. */
final class ManifestPuller implements RegistryCall<ManifestPuller.Fetched> {

    /**
     * A fetched manifest, whose digest was computed over the bytes received (and checked against the registry's
     * {@code Docker-Content-Digest} header when it sent one).
     */
    record Fetched(byte[] body, String contentType, Digest digest) {
    }

    private final ImageReference image;
    private final String reference;

    ManifestPuller(ImageReference image, String reference) {
        this.image = image;
        this.reference = reference;
    }

    @Override
    public String path() {
        return "/v2/" + image.repository() + "/manifests/" + reference;
    }

    @Override
    public List<String> accept() {
        return MediaTypes.MANIFEST_ACCEPT;
    }

    @Override
    public Fetched handle(HttpResponse<InputStream> response) throws IOException {
        byte[] body;
        try (InputStream in = response.body()) {
            body = in.readNBytes(Manifests.MAX_MANIFEST_BYTES + 1);
        }
        if (body.length > Manifests.MAX_MANIFEST_BYTES) {
            throw new ManifestException("manifest " + reference + " of " + image + " is larger than "
                    + Manifests.MAX_MANIFEST_BYTES + " bytes; refusing it");
        }
        Digest digest = Digest.sha256(body);
        String header = response.headers().firstValue("Docker-Content-Digest").orElse(null);
        if (header != null && header.startsWith("sha256:") && !header.equals(digest.toString())) {
            throw new UnexpectedBlobDigestException("manifest " + reference + " of " + image,
                    Digest.parse(header), digest);
        }
        return new Fetched(body, response.headers().firstValue("Content-Type").orElse(null), digest);
    }

    @Override
    public String description() {
        return "fetch manifest " + reference + " of " + image.registry() + "/" + image.repository();
    }
}
