package dev.banger.image;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The parts of an OCI image config that banger uses: exec and {@code vm run} start commands with {@code env} and
 * in {@code workingDir}.
 *
 * @param env {@code KEY=VALUE} strings, in the image's order
 * @param workingDir the working directory, or null when the image sets none
 * @param entrypoint the entrypoint, empty when unset
 * @param cmd the default command, empty when unset
 */
public record ImageConfig(List<String> env, String workingDir, List<String> entrypoint, List<String> cmd) {

    public static final ImageConfig EMPTY = new ImageConfig(List.of(), null, List.of(), List.of());

    public ImageConfig {
        env = env == null ? List.of() : List.copyOf(env);
        workingDir = workingDir == null || workingDir.isEmpty() ? null : workingDir;
        entrypoint = entrypoint == null ? List.of() : List.copyOf(entrypoint);
        cmd = cmd == null ? List.of() : List.copyOf(cmd);
    }

    /** {@link #env()} as a map, as {@link dev.banger.model.Image} records it (a later duplicate key wins). */
    public Map<String, String> envMap() {
        Map<String, String> map = new LinkedHashMap<>();
        for (String entry : env) {
            int eq = entry.indexOf('=');
            if (eq > 0) {
                map.put(entry.substring(0, eq), entry.substring(eq + 1));
            } else if (eq < 0 && !entry.isEmpty()) {
                map.put(entry, "");
            }
        }
        return map;
    }
}
