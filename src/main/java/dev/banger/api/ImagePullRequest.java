package dev.banger.api;

/**
 * {@code image.pull}: a registry reference ({@code debian:bookworm}, {@code host:port/repo@sha256:...}),
 * {@code oci-layout:DIR[:TAG]} or {@code docker-archive:FILE}.
 *
 * @param name image name, or null to derive one from the reference
 * @param insecure allow plain HTTP to a non-loopback registry
 * @param force replace an existing image of that name (refused while VMs use it)
 * @param dockerConfig the user's docker client config (credentials), or null
 */
public record ImagePullRequest(String reference, String name, boolean insecure, boolean force,
                               String dockerConfig) {
}
