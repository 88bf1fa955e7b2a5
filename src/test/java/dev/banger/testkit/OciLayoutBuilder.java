package dev.banger.testkit;

import dev.banger.json.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes an OCI image layout directory (image-spec v1.1): blobs by digest, image manifests, optional multi-arch
 * indexes, and index.json entries tagged with org.opencontainers.image.ref.name, which skopeo's {@code oci:DIR:TAG}
 * reads.
 */
public final class OciLayoutBuilder {

    public static final String LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
    public static final String LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd";
    public static final String LAYER_TAR = "application/vnd.oci.image.layer.v1.tar";

    /** A blob written to the layout. */
    public record Blob(String mediaType, String digest, long size, byte[] content) {
        Map<String, Object> descriptor() {
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("mediaType", mediaType);
            d.put("digest", digest);
            d.put("size", size);
            return d;
        }
    }

    private final Path dir;
    private final List<Map<String, Object>> index = new ArrayList<>();

    public OciLayoutBuilder(Path dir) {
        this.dir = dir;
        try {
            Files.createDirectories(dir.resolve("blobs/sha256"));
            Files.writeString(dir.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Path dir() {
        return dir;
    }

    public Blob blob(String mediaType, byte[] content) {
        String hex = sha256(content);
        try {
            Files.write(dir.resolve("blobs/sha256").resolve(hex), content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new Blob(mediaType, "sha256:" + hex, content.length, content);
    }

    public Blob layer(TarLayer layer, TarLayer.Compression compression) {
        String type = switch (compression) {
            case GZIP -> LAYER_GZIP;
            case ZSTD -> LAYER_ZSTD;
            case NONE -> LAYER_TAR;
        };
        return blob(type, layer.bytes(compression));
    }

    /** An image manifest for {@code layers}, with a config naming {@code arch}, Env and WorkingDir and Cmd. */
    public Blob image(String arch, List<Blob> layers, List<String> env, String workingDir, List<String> cmd) {
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("architecture", arch);
        config.put("os", "linux");
        Map<String, Object> cfg = new LinkedHashMap<>();
        cfg.put("Env", env);
        if (workingDir != null) {
            cfg.put("WorkingDir", workingDir);
        }
        cfg.put("Cmd", cmd);
        config.put("config", cfg);
        List<String> diffIds = new ArrayList<>();
        for (Blob l : layers) {
            diffIds.add("sha256:" + diffId(l));
        }
        config.put("rootfs", Map.of("type", "layers", "diff_ids", diffIds));
        Blob configBlob = blob("application/vnd.oci.image.config.v1+json",
                Json.write(config).getBytes(StandardCharsets.UTF_8));
        Map<String, Object> manifest = new LinkedHashMap<>();
        manifest.put("schemaVersion", 2L);
        manifest.put("mediaType", "application/vnd.oci.image.manifest.v1+json");
        manifest.put("config", configBlob.descriptor());
        manifest.put("layers", layers.stream().map(Blob::descriptor).toList());
        return blob("application/vnd.oci.image.manifest.v1+json", Json.write(manifest).getBytes(StandardCharsets.UTF_8));
    }

    /** A multi-arch index over {@code (arch, manifest)} pairs. */
    public Blob index(Map<String, Blob> manifestsByArch) {
        List<Map<String, Object>> entries = new ArrayList<>();
        manifestsByArch.forEach((arch, m) -> {
            Map<String, Object> d = m.descriptor();
            d.put("platform", Map.of("os", "linux", "architecture", arch));
            entries.add(d);
        });
        Map<String, Object> idx = new LinkedHashMap<>();
        idx.put("schemaVersion", 2L);
        idx.put("mediaType", "application/vnd.oci.image.index.v1+json");
        idx.put("manifests", entries);
        return blob("application/vnd.oci.image.index.v1+json", Json.write(idx).getBytes(StandardCharsets.UTF_8));
    }

    /** Names {@code manifest} (an image manifest or an index) {@code tag} in index.json. */
    /** Tags {@code manifest}; a tag already in the layout moves to it, as a push of a new image under it would. */
    public OciLayoutBuilder tag(String tag, Blob manifest) {
        index.removeIf(entry -> entry.get("annotations") instanceof Map<?, ?> a
                && tag.equals(a.get("org.opencontainers.image.ref.name")));
        Map<String, Object> d = manifest.descriptor();
        d.put("annotations", Map.of("org.opencontainers.image.ref.name", tag));
        index.add(d);
        Map<String, Object> idx = new LinkedHashMap<>();
        idx.put("schemaVersion", 2L);
        idx.put("mediaType", "application/vnd.oci.image.index.v1+json");
        idx.put("manifests", index);
        try {
            Files.writeString(dir.resolve("index.json"), Json.write(idx));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    /** The SHA-256 of the uncompressed layer, streamed (a test's bomb layer inflates to GiBs). */
    private static String diffId(Blob layer) {
        try (java.io.InputStream in = switch (layer.mediaType()) {
            case LAYER_GZIP -> new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(layer.content()),
                    1 << 16);
            case LAYER_ZSTD -> new com.github.luben.zstd.ZstdInputStream(
                    new java.io.ByteArrayInputStream(layer.content()));
            default -> new java.io.ByteArrayInputStream(layer.content());
        }) {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 20];
            int n;
            while ((n = in.read(buf)) > 0) {
                sha.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(sha.digest());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public static String sha256(byte[] content) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
