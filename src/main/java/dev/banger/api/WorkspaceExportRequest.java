package dev.banger.api;

/**
 * {@code workspace.export}: a git bundle of the guest repository's work, streamed as {@link Event.Output} bytes.
 *
 * @param guestPath the repository in the guest ({@code /root/NAME} for {@code vm run}'s workspace)
 * @param uncommitted also capture uncommitted changes (tracked and untracked-not-ignored) as one commit on top
 */
public record WorkspaceExportRequest(String vm, String guestPath, boolean uncommitted) {
}
