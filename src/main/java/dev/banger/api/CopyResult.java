package dev.banger.api;

import java.util.List;

/**
 * What a copy moved, as the guest counted it.
 *
 * @param warnings the first few problems (skipped entries), in words
 */
public record CopyResult(long files, long dirs, long symlinks, long others, long bytes, long skipped,
                         List<String> warnings) {
}
