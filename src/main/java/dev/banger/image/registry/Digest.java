package dev.banger.image.registry;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * A content digest, {@code algorithm:hex}, as OCI descriptors carry it. Only sha256 and sha512 are accepted: they
 * are the algorithms the image spec registers, and a digest we cannot verify is worth nothing.
 *
 * @param algorithm "sha256" or "sha512"
 * @param hex the lowercase hex encoding, 64 or 128 characters
 */
public record Digest(String algorithm, String hex) {

    private static final Pattern SHA256 = Pattern.compile("[a-f0-9]{64}");
    private static final Pattern SHA512 = Pattern.compile("[a-f0-9]{128}");

    public Digest {
        Pattern shape = switch (algorithm) {
            case "sha256" -> SHA256;
            case "sha512" -> SHA512;
            default -> throw new IllegalArgumentException("unsupported digest algorithm '" + algorithm
                    + "': only sha256 and sha512 are accepted");
        };
        if (!shape.matcher(hex).matches()) {
            throw new IllegalArgumentException("malformed " + algorithm + " digest '" + hex + "'");
        }
    }

    /** Parses {@code sha256:<64 hex>} (or sha512). @throws IllegalArgumentException saying what is wrong */
    public static Digest parse(String text) {
        int colon = text == null ? -1 : text.indexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("malformed digest '" + text + "': expected algorithm:hex");
        }
        return new Digest(text.substring(0, colon), text.substring(colon + 1));
    }

    public static Digest sha256(byte[] content) {
        return new Digest("sha256", HexFormat.of().formatHex(newSha256().digest(content)));
    }

    /** A fresh hasher for this digest's algorithm. */
    public MessageDigest newHasher() {
        return hasher(algorithm);
    }

    /** The digest a hasher from {@link #newHasher()} computed over the content it was fed. */
    public static Digest of(String algorithm, MessageDigest fedHasher) {
        return new Digest(algorithm, HexFormat.of().formatHex(fedHasher.digest()));
    }

    static MessageDigest newSha256() {
        return hasher("sha256");
    }

    private static MessageDigest hasher(String algorithm) {
        try {
            return MessageDigest.getInstance(algorithm.equals("sha256") ? "SHA-256" : "SHA-512");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK lacks " + algorithm, e);
        }
    }

    /** The first 12 hex digits, as people read digests in progress output. */
    public String shortForm() {
        return hex.substring(0, 12);
    }

    @Override
    public String toString() {
        return algorithm + ":" + hex;
    }
}
