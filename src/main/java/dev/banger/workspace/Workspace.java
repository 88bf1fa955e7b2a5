package dev.banger.workspace;

import dev.banger.host.ClientFiles;
import java.nio.file.Path;
import java.util.List;

/**
 * A git checkout on the host, as {@code vm run} copies it into a VM.
 *
 * @param root the repository's top-level directory
 * @param name the directory name the guest gets ({@code /root/NAME})
 * @param head the checked-out commit, or null in a repository without commits
 * @param branch the checked-out branch, or null when HEAD is detached (or there are no commits)
 * @param files tracked files plus untracked files that are not ignored, relative to {@code root}, as they are in
 *     the working tree (tracked files deleted from the working tree are left out)
 * @param subdirectory where in the repository the user asked from, relative to {@code root} ("" at the top):
 *     the command runs in the same place in the guest
 * @param seedBytes what the workspace takes on a disk: its files rounded up to 4 KiB blocks, plus the git objects
 * @param copy for a client that is not privileged, the private copy of the workspace read as that client (the
 *     files are then under it, not under {@code root}; see {@code PeerWorkspace}); null when the daemon reads
 *     {@code root} itself
 */
public record Workspace(Path root, String name, String head, String branch, List<String> files, String subdirectory,
                        long seedBytes, ClientFiles.Local copy) implements AutoCloseable {

    public Workspace {
        files = List.copyOf(files);
    }

    /** Deletes the private copy, if there is one. */
    @Override
    public void close() {
        if (copy != null) {
            copy.close();
        }
    }

    /** Where the command runs in the guest: the repository under /root, at the subdirectory the user was in. */
    public String guestDirectory() {
        return "/root/" + name + (subdirectory.isEmpty() ? "" : "/" + subdirectory);
    }
}
