package dev.banger.api;

/**
 * What {@code workspace.export} bundled.
 *
 * @param ref the ref inside the bundle to fetch
 * @param commit the commit it points at
 * @param bytes the bundle's size
 */
public record WorkspaceExportResult(String ref, String commit, long bytes) {
}
