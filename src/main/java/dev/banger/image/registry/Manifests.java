package dev.banger.image.registry;

import java.util.List;

/** Parses manifests and indexes (OCI image spec v1 and Docker image manifest v2 schema 2). */
public final class Manifests {

    /** Registries are asked to refuse larger manifests; banger refuses them too rather than buffer without end. */
    public static final int MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

    private Manifests() {
    }

    /** A manifest or an index, as parsed. */
    public sealed interface Parsed permits ImageIndex, ImageManifest {
    }

    /** A multi-platform index (OCI image index or Docker manifest list). */
    public record ImageIndex(List<Descriptor> manifests) implements Parsed {

        public ImageIndex {
            manifests = List.copyOf(manifests);
        }

        /**
         * The entry for {@code platform}.
         *
         * @throws ManifestException listing the platforms the index does have
         */
        public Descriptor select(Platform platform, String what) {
            for (Descriptor d : manifests) {
                if (d.platform() != null && d.platform().matches(platform)
                        && MediaTypes.isImageManifest(d.mediaType())) {
                    return d;
                }
            }
            List<String> have = manifests.stream()
                    .map(d -> d.platform() == null ? "(no platform)" : d.platform().toString()).distinct().toList();
            throw new ManifestException(what + " has no " + platform + " image (it has: " + String.join(", ", have)
                    + "); banger guests are " + platform);
        }
    }

    /** One image: its config blob and its layers, bottom first. */
    public record ImageManifest(Descriptor config, List<Descriptor> layers) implements Parsed {

        public ImageManifest {
            layers = List.copyOf(layers);
        }
    }

    /**
     * Parses a manifest body.
     *
     * @param contentType the media type the registry declared (Content-Type), or null to go by the body
     * @param what names the document in errors
     * @throws ManifestException for malformed JSON, schema 1 manifests and unknown media types
     */
    public static Parsed parse(byte[] body, String contentType, String what) {
        JsonFields json = JsonFields.parse(body, what);
        String declared = json.string("mediaType");
        String type = contentType != null && !contentType.isBlank() && !contentType.startsWith("application/json")
                && !contentType.startsWith("text/plain") ? stripParameters(contentType) : declared;
        if (type == null) {
            type = json.has("manifests") ? MediaTypes.OCI_INDEX : json.has("layers") ? MediaTypes.OCI_MANIFEST : null;
        }
        if (declared != null && !declared.equals(type)) {
            throw new ManifestException(what + " is served as " + type + " but declares mediaType " + declared);
        }
        if (MediaTypes.DOCKER_SCHEMA1.equals(type) || MediaTypes.DOCKER_SCHEMA1_SIGNED.equals(type)
                || json.longOr("schemaVersion", 2) == 1) {
            throw new ManifestException(what + " is a Docker schema 1 manifest, which banger does not pull;"
                    + " re-push the image with a current Docker or skopeo");
        }
        if (MediaTypes.isIndex(type)) {
            return new ImageIndex(json.objects("manifests").stream().map(JsonFields::asDescriptor).toList());
        }
        if (MediaTypes.isImageManifest(type)) {
            Descriptor config = json.descriptor("config");
            List<Descriptor> layers = json.objects("layers").stream().map(JsonFields::asDescriptor).toList();
            for (Descriptor layer : layers) {
                if (layer.mediaType() != null && !MediaTypes.isLayer(layer.mediaType())) {
                    throw new ManifestException(what + " has a layer of unsupported media type " + layer.mediaType()
                            + " (" + layer.digest() + ")");
                }
            }
            return new ImageManifest(config, layers);
        }
        throw new ManifestException(what + " has unsupported media type " + type + "; banger pulls "
                + String.join(", ", MediaTypes.MANIFEST_ACCEPT));
    }

    private static String stripParameters(String contentType) {
        int semi = contentType.indexOf(';');
        return (semi < 0 ? contentType : contentType.substring(0, semi)).strip();
    }
}
