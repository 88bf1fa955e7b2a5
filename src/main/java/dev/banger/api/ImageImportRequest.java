package dev.banger.api;

/**
 * {@code image.import}: a bundle made by {@code image export}, from a file or an http(s) URL.
 *
 * @param source an absolute path, or an {@code http://} or {@code https://} URL
 * @param name the image's name, or null for the name in the bundle
 * @param insecure allow plain HTTP to a host that is not loopback
 */
public record ImageImportRequest(String source, String name, boolean insecure) {
}
