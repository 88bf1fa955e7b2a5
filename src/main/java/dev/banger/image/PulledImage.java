package dev.banger.image;

import java.nio.file.Path;

/**
 * A pulled image, built into an ext4 root disk.
 *
 * @param rootfsExt4 the published root disk ({@link PullOptions#rootfsTarget()})
 * @param manifestDigest the digest of the manifest or index the reference resolved to (for a docker-archive, the
 *     image ID); pulling {@code REPO@DIGEST} gets the same image again
 * @param sourceReference the reference in canonical form ({@code docker.io/library/debian:latest},
 *     {@code oci-layout:/abs/dir:tag}, {@code docker-archive:/abs/file.tar})
 * @param sizeBytes the root disk's size (apparent; the file is sparse)
 * @param config the image config's Env, WorkingDir, Entrypoint and Cmd
 */
public record PulledImage(Path rootfsExt4, String manifestDigest, String sourceReference, long sizeBytes,
                          ImageConfig config) {
}
