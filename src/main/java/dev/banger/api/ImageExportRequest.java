package dev.banger.api;

/**
 * {@code image.export}: the image as a bundle, streamed to the client as {@link Event.Output} bytes (the client
 * writes the file; the daemon runs as root and writes nothing of the user's).
 *
 * @param withKernel also bundle a kernel: {@code kernel}, or the default kernel when that is null
 * @param kernel the kernel to bundle, or null
 */
public record ImageExportRequest(String name, boolean withKernel, String kernel) {
}
