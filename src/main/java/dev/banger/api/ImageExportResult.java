package dev.banger.api;

/**
 * What {@code image.export} wrote.
 *
 * @param kernel the bundled kernel's name, or null
 * @param bytes the bundle's size (compressed)
 * @param contentBytes the bytes of the files inside it (root disk, kernel files)
 */
public record ImageExportResult(String image, String kernel, long bytes, long contentBytes) {
}
