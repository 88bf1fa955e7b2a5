package dev.banger.image.registry;

import java.io.InputStream;
import java.net.http.HttpResponse;
import java.util.List;

/**
 * GET {@code /v2/NAME/blobs/DIGEST}: the blob's byte stream, unverified; {@link ContentStore#ingest} verifies it
 * while it streams in. The caller closes the stream.
 */
final class BlobPuller implements RegistryCall<InputStream> {

    private final ImageReference image;
    private final Descriptor blob;

    BlobPuller(ImageReference image, Descriptor blob) {
        this.image = image;
        this.blob = blob;
    }

    @Override
    public String path() {
        return "/v2/" + image.repository() + "/blobs/" + blob.digest();
    }

    @Override
    public List<String> accept() {
        return List.of();
    }

    @Override
    public InputStream handle(HttpResponse<InputStream> response) {
        return response.body();
    }

    @Override
    public String description() {
        return "fetch blob " + blob.digest() + " of " + image.registry() + "/" + image.repository();
    }
}
