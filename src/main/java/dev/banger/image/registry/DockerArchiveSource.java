package dev.banger.image.registry;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarFile;

/**
 * An image in a {@code docker save} / {@code skopeo copy … docker-archive:} tarball
 * ({@code docker-archive:FILE[:REPO:TAG]}). Its {@code manifest.json} names the config and the layer files; a
 * layer file is identified by its name when that is a blob path ({@code blobs/sha256/HEX}) and otherwise by the
 * config's {@code rootfs.diff_ids} (docker save writes uncompressed layers, whose digest is the diff ID). Either
 * way every byte is verified as it is copied into the content store. The image's digest is its ID (the config
 * digest): an archive has no registry manifest.
 */
final class DockerArchiveSource implements ImageSource {

    static final String PREFIX = "docker-archive:";

    private final Path file;
    private final String wanted;
    private final Map<Digest, Span> spans = new HashMap<>();

    private record Span(long offset, long size) {
    }

    DockerArchiveSource(Path file, String wanted) {
        this.file = file.toAbsolutePath().normalize();
        this.wanted = wanted == null || wanted.isEmpty() ? null : wanted;
    }

    /** Parses {@code FILE[:REPO:TAG]} (the part after {@code docker-archive:}). */
    static DockerArchiveSource parse(String spec) {
        SplitSpec split = SplitSpec.split(spec, p -> Files.isRegularFile(p));
        if (split == null) {
            throw new IllegalArgumentException("docker-archive: " + spec + " is not a file");
        }
        return new DockerArchiveSource(split.path(), split.rest());
    }

    @Override
    public String reference() {
        return PREFIX + file + (wanted != null ? ":" + wanted : "");
    }

    @Override
    public synchronized ResolvedImage resolve() {
        String what = reference();
        Map<String, TarArchiveEntry> entries = new HashMap<>();
        try (TarFile tar = new TarFile(file)) {
            for (TarArchiveEntry e : tar.getEntries()) {
                if (e.isFile()) {
                    entries.put(clean(e.getName()), e);
                }
            }
            JsonFields manifest = jsonArrayItem(tar, entries, what);
            String configPath = clean(manifest.requireString("Config"));
            TarArchiveEntry configEntry = require(entries, configPath, what);
            if (configEntry.getSize() > Manifests.MAX_MANIFEST_BYTES) {
                throw new ManifestException(what + ": config " + configPath + " is too large");
            }
            byte[] config;
            try (InputStream in = tar.getInputStream(configEntry)) {
                config = in.readAllBytes();
            }
            Digest configDigest = Digest.sha256(config);
            spans.put(configDigest, new Span(configEntry.getDataOffset(), configEntry.getSize()));
            List<String> diffIds = JsonFields.parse(config, what + " config").object("rootfs") == null ? List.of()
                    : JsonFields.parse(config, what + " config").object("rootfs").strings("diff_ids");
            List<String> layerPaths = manifest.strings("Layers");
            if (layerPaths == null || layerPaths.isEmpty()) {
                throw new ManifestException(what + ": manifest.json lists no layers");
            }
            List<Descriptor> layers = new ArrayList<>();
            for (int i = 0; i < layerPaths.size(); i++) {
                String path = clean(layerPaths.get(i));
                TarArchiveEntry entry = require(entries, path, what);
                Digest digest = blobPathDigest(path);
                if (digest == null) {
                    if (diffIds == null || i >= diffIds.size()) {
                        throw new ManifestException(what + ": layer " + path + " has no diff ID in the config");
                    }
                    digest = Digest.parse(diffIds.get(i));
                }
                spans.put(digest, new Span(entry.getDataOffset(), entry.getSize()));
                layers.add(new Descriptor(null, digest, entry.getSize()));
            }
            return new ResolvedImage(configDigest, new Descriptor(MediaTypes.DOCKER_CONFIG, configDigest,
                    config.length), layers);
        } catch (IOException e) {
            throw new ManifestException(what + ": cannot read " + file + ": " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new ManifestException(what + ": " + e.getMessage(), e);
        }
    }

    private JsonFields jsonArrayItem(TarFile tar, Map<String, TarArchiveEntry> entries, String what)
            throws IOException {
        TarArchiveEntry entry = require(entries, "manifest.json", what);
        if (entry.getSize() > Manifests.MAX_MANIFEST_BYTES) {
            throw new ManifestException(what + ": manifest.json is too large");
        }
        byte[] body;
        try (InputStream in = tar.getInputStream(entry)) {
            body = in.readAllBytes();
        }
        Object tree = dev.banger.json.Json.parseTree(new String(body, java.nio.charset.StandardCharsets.UTF_8));
        if (!(tree instanceof List<?> images) || images.isEmpty()) {
            throw new ManifestException(what + ": manifest.json is not a non-empty array");
        }
        List<String> allTags = new ArrayList<>();
        for (Object image : images) {
            JsonFields item = JsonFields.of(image, what + " manifest.json");
            List<String> tags = item.strings("RepoTags");
            if (tags != null) {
                allTags.addAll(tags);
            }
            if (wanted == null ? images.size() == 1 : tags != null && (tags.contains(wanted)
                    || tags.stream().anyMatch(t -> t.endsWith("/" + wanted)))) {
                return item;
            }
        }
        throw new ManifestException(what + ": " + (wanted == null
                ? "the archive holds several images, name one with docker-archive:FILE:REPO:TAG"
                : "no image tagged '" + wanted + "'") + " (tags: " + String.join(", ", allTags) + ")");
    }

    @Override
    public ContentStore.Ingested fetch(Descriptor blob, ContentStore store, BlobListener listener, String what)
            throws IOException {
        Span span;
        synchronized (this) {
            span = spans.get(blob.digest());
        }
        if (span == null) {
            throw new IllegalStateException(blob.digest() + " is not in " + file + "; resolve() first");
        }
        return store.ingest(blob, () -> open(span), listener, what + " (" + blob.digest() + ") of " + reference());
    }

    private InputStream open(Span span) throws IOException {
        FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
        ch.position(span.offset());
        InputStream raw = Channels.newInputStream(ch);
        return new FilterInputStream(raw) {
            private long left = span.size();

            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (left <= 0) {
                    return -1;
                }
                int n = super.read(b, off, (int) Math.min(len, left));
                if (n > 0) {
                    left -= n;
                }
                return n;
            }
        };
    }

    private static TarArchiveEntry require(Map<String, TarArchiveEntry> entries, String path, String what) {
        TarArchiveEntry e = entries.get(path);
        if (e == null) {
            throw new ManifestException(what + ": the archive has no " + path);
        }
        return e;
    }

    private static Digest blobPathDigest(String path) {
        String[] parts = path.split("/");
        if (parts.length == 3 && parts[0].equals("blobs")) {
            try {
                return new Digest(parts[1], parts[2]);
            } catch (IllegalArgumentException e) {
                return null;
            }
        }
        return null;
    }

    private static String clean(String name) {
        String n = name;
        while (n.startsWith("./")) {
            n = n.substring(2);
        }
        return n;
    }
}
