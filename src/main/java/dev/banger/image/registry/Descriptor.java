package dev.banger.image.registry;

import java.util.Objects;

/**
 * A content descriptor: what a manifest says about a blob it references.
 *
 * @param mediaType the blob's media type (may be null in a docker-archive, where layers are plain tars)
 * @param digest the content digest every fetched byte is checked against
 * @param size the exact size in bytes; more or fewer bytes is an error
 * @param platform for index entries, the platform of the manifest; else null
 */
public record Descriptor(String mediaType, Digest digest, long size, Platform platform) {

    public Descriptor {
        Objects.requireNonNull(digest, "digest");
        if (size < 0) {
            throw new IllegalArgumentException("negative size " + size + " for blob " + digest);
        }
    }

    public Descriptor(String mediaType, Digest digest, long size) {
        this(mediaType, digest, size, null);
    }
}
