package dev.banger.guest;

import java.util.List;
import java.util.Map;

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

    static CopyStats of(Map<?, ?> result) {
        List<String> warnings = result.get("warnings") instanceof List<?> list
                ? list.stream().map(String::valueOf).toList() : List.of();
        return new CopyStats(Json.number(result, "files", 0), Json.number(result, "dirs", 0),
                Json.number(result, "symlinks", 0), Json.number(result, "others", 0), Json.number(result, "bytes", 0),
                Json.number(result, "skipped", 0), warnings);
    }
}
