package dev.banger.api;

/**
 * A template as {@code banger template list} shows it (docs/snapshots.md).
 *
 * @param id the template's key (64 hex digits; listings show the first 12)
 * @param image the image it was built from
 * @param kernel the kernel it booted
 * @param vmm the VMM that captured it
 * @param workDiskMib the work disk size its clones have
 * @param diskBytes what its files take on disk (its RAM file is sparse)
 * @param bootMillis its boot, from VMM start to the agent's answer
 * @param captureMillis its capture
 * @param current whether a VM created now with its image, kernel and sizes would restore from it (false: an input
 *     changed since, and {@code template prune} removes it)
 */
public record TemplateView(String id, String image, String kernel, String vmm, int cpus, int memoryMib,
                           long workDiskMib, long diskBytes, long bootMillis, long captureMillis, String createdAt,
                           boolean current) {
}
