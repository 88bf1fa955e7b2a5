package dev.banger.image.registry;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * An image in an OCI image layout directory ({@code oci-layout:DIR[:TAG]}): {@code index.json} names the images,
 * tagged by the {@code org.opencontainers.image.ref.name} annotation; blobs live under {@code blobs/ALG/HEX} and
 * are verified like a registry's.
 */
final class OciLayoutSource implements ImageSource {

    static final String PREFIX = "oci-layout:";
    private static final String REF_NAME = "org.opencontainers.image.ref.name";

    private final Path dir;
    private final String tag;

    OciLayoutSource(Path dir, String tag) {
        this.dir = dir.toAbsolutePath().normalize();
        this.tag = tag == null || tag.isEmpty() ? null : tag;
    }

    /** Parses {@code DIR[:TAG]} (the part after {@code oci-layout:}); DIR may itself contain a colon. */
    static OciLayoutSource parse(String spec) {
        SplitSpec split = SplitSpec.split(spec, Files::isDirectory);
        if (split == null) {
            throw new IllegalArgumentException("oci-layout: " + spec + " is not a directory");
        }
        return new OciLayoutSource(split.path(), split.rest());
    }

    @Override
    public String reference() {
        return PREFIX + dir + (tag != null ? ":" + tag : "");
    }

    @Override
    public ResolvedImage resolve() {
        String what = reference();
        if (!Files.isRegularFile(dir.resolve("oci-layout"))) {
            throw new ManifestException(what + ": " + dir + " is not an OCI image layout (no oci-layout file)");
        }
        byte[] indexBytes = read(dir.resolve("index.json"), Manifests.MAX_MANIFEST_BYTES, what);
        JsonFields index = JsonFields.parse(indexBytes, what + " index.json");
        List<JsonFields> entries = index.objects("manifests");
        JsonFields chosen = null;
        List<String> tags = new ArrayList<>();
        for (JsonFields e : entries) {
            String name = e.annotation(REF_NAME);
            tags.add(name == null ? "(untagged)" : name);
            if (tag != null ? tag.equals(name) : entries.size() == 1) {
                chosen = e;
            }
        }
        if (chosen == null) {
            throw new ManifestException(what + ": " + (tag != null ? "no image tagged '" + tag + "'"
                    : "the layout holds several images, name one with oci-layout:DIR:TAG") + " (tags: "
                    + String.join(", ", tags) + ")");
        }
        Descriptor top = chosen.asDescriptor();
        Manifests.Parsed parsed = fetchManifest(top, "manifest of " + what);
        Manifests.ImageManifest manifest = PlatformResolver.resolve(parsed, Platform.LINUX_AMD64,
                this::fetchManifest, what);
        return new ResolvedImage(top.digest(), manifest.config(), manifest.layers());
    }

    private Manifests.Parsed fetchManifest(Descriptor descriptor, String what) {
        if (descriptor.size() > Manifests.MAX_MANIFEST_BYTES) {
            throw new ManifestException(what + " is larger than " + Manifests.MAX_MANIFEST_BYTES + " bytes");
        }
        if (!Files.exists(blob(descriptor.digest()), LinkOption.NOFOLLOW_LINKS)) {
            throw missing(what, descriptor.digest());
        }
        byte[] body = read(blob(descriptor.digest()), Manifests.MAX_MANIFEST_BYTES, what);
        java.security.MessageDigest hasher = descriptor.digest().newHasher();
        hasher.update(body);
        Digest actual = Digest.of(descriptor.digest().algorithm(), hasher);
        if (!actual.equals(descriptor.digest())) {
            throw new UnexpectedBlobDigestException(what, descriptor.digest(), actual);
        }
        if (body.length != descriptor.size()) {
            throw new UnexpectedBlobSizeException(what, descriptor.size(), body.length, false);
        }
        return Manifests.parse(body, descriptor.mediaType(), what);
    }

    @Override
    public ContentStore.Ingested fetch(Descriptor blob, ContentStore store, BlobListener listener, String what)
            throws IOException {
        Path file = blob(blob.digest());
        return store.ingest(blob, () -> {
            try {
                return Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS);
            } catch (NoSuchFileException e) {
                throw missing(what, blob.digest());
            }
        }, listener, what + " (" + blob.digest() + ") of " + reference());
    }

    /** One line, the blob by digest (its file name says nothing more). */
    private ManifestException missing(String what, Digest digest) {
        return new ManifestException(what + ": blob " + digest + " missing from the layout " + dir);
    }

    private Path blob(Digest digest) {
        return dir.resolve("blobs").resolve(digest.algorithm()).resolve(digest.hex());
    }

    private static byte[] read(Path file, int limit, String what) {
        try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
            byte[] body = in.readNBytes(limit + 1);
            if (body.length > limit) {
                throw new ManifestException(what + ": " + file + " is larger than " + limit + " bytes");
            }
            return body;
        } catch (NoSuchFileException e) {
            throw new ManifestException(what + ": " + file + " is missing");
        } catch (IOException e) {
            throw new ManifestException(what + ": cannot read " + file + ": " + e.getMessage(), e);
        }
    }
}
