package dev.banger.image.registry;

import java.nio.file.Path;
import java.util.function.Predicate;

/**
 * Splits {@code PATH[:REST]}, where the path itself may contain ':': the longest prefix (the whole string, or
 * ending just before a ':') that names an existing file of the wanted kind is the path.
 */
record SplitSpec(Path path, String rest) {

    static SplitSpec split(String spec, Predicate<Path> exists) {
        if (spec == null || spec.isEmpty()) {
            return null;
        }
        int end = spec.length();
        while (end > 0) {
            String candidate = spec.substring(0, end);
            if (exists.test(Path.of(candidate))) {
                return new SplitSpec(Path.of(candidate), end == spec.length() ? null : spec.substring(end + 1));
            }
            end = spec.lastIndexOf(':', end - 1);
        }
        return null;
    }
}
