package dev.banger.api;

/**
 * {@code kernel.import}: exactly one of {@code kernel} and {@code deb}. Paths are absolute (the CLI resolves them
 * against its working directory).
 *
 * @param kernel a vmlinux or bzImage
 * @param modules the kernel's modules directory ({@code lib/modules/VERSION} or a root above it), or null
 * @param deb a Debian {@code linux-image-*.deb}
 * @param makeDefault make it the default kernel (the first kernel always becomes the default)
 */
public record KernelImportRequest(String name, String kernel, String modules, String deb, boolean makeDefault) {
}
