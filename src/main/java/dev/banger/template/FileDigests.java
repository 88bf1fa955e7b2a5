package dev.banger.template;

import dev.banger.json.Json;
import dev.banger.util.Files2;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;

/**
 * SHA-256 of files, remembered by the file's identity (device, inode, size, modification and change times) in a
 * small JSON file, so a 700 MB root filesystem is read once, not at every {@code vm create}. Any write to a file
 * changes its ctime, which no one can set back, so a remembered digest is never trusted for changed contents.
 */
public final class FileDigests {

    /** What the cache file holds. */
    record Cache(Map<String, String> digests) {
    }

    private final Path cacheFile;
    private final Map<String, String> byIdentity = new HashMap<>();

    public FileDigests(Path cacheFile) {
        this.cacheFile = cacheFile;
        try {
            if (Files.isRegularFile(cacheFile)) {
                byIdentity.putAll(Json.read(Files.readAllBytes(cacheFile), Cache.class).digests());
            }
        } catch (IOException | RuntimeException e) {
            // A cache that cannot be read is rebuilt.
        }
    }

    /** "sha256:HEX" of {@code file}'s contents. */
    public synchronized String digest(Path file) throws IOException {
        String identity = identity(file);
        String known = byIdentity.get(identity);
        if (known != null) {
            return known;
        }
        String digest = compute(file);
        if (!identity(file).equals(identity)) {
            throw new IOException(file + " changed while its digest was computed");
        }
        byIdentity.keySet().removeIf(k -> k.startsWith(file.toAbsolutePath() + "|"));
        byIdentity.put(identity, digest);
        Files.createDirectories(cacheFile.getParent());
        Files2.writeAtomically(cacheFile, Json.writePretty(new Cache(Map.copyOf(byIdentity)))
                .getBytes(StandardCharsets.UTF_8));
        return digest;
    }

    private static String identity(Path file) throws IOException {
        Map<String, Object> a = Files.readAttributes(file, "unix:dev,ino,size,lastModifiedTime,ctime",
                LinkOption.NOFOLLOW_LINKS);
        return file.toAbsolutePath() + "|" + a.get("dev") + "|" + a.get("ino") + "|" + a.get("size") + "|"
                + a.get("lastModifiedTime") + "|" + a.get("ctime");
    }

    static String compute(Path file) throws IOException {
        try (InputStream in = new DigestInputStream(Files.newInputStream(file),
                MessageDigest.getInstance("SHA-256"))) {
            MessageDigest md = ((DigestInputStream) in).getMessageDigest();
            in.transferTo(java.io.OutputStream.nullOutputStream());
            return "sha256:" + HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
