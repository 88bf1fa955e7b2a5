package dev.banger.guest;

import java.util.List;

/**
 * What a {@code file.read} or {@code file.write} moved.
 *
 * @param files regular files (and hard links)
 * @param dirs directories
 * @param symlinks symbolic links
 * @param others FIFOs and devices
 * @param bytes file contents
 * @param skipped entries left out (unreadable files, sockets, devices on write)
 * @param warnings the first few problems, in words
 */
public record CopyStats(long files, long dirs, long symlinks, long others, long bytes, long skipped,
                        List<String> warnings) {

    public CopyStats {
        warnings = List.copyOf(warnings);
    }
}
