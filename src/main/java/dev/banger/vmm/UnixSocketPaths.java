package dev.banger.vmm;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** Linux limits a Unix socket path to 107 bytes (sun_path is 108 with the NUL); longer paths fail obscurely. */
public final class UnixSocketPaths {

    public static final int MAX_BYTES = 107;

    private UnixSocketPaths() {
    }

    /** Null when {@code path} fits, otherwise a message saying by how much it does not. */
    public static String problem(String what, Path path) {
        int len = path.toAbsolutePath().toString().getBytes(StandardCharsets.UTF_8).length;
        if (len <= MAX_BYTES) {
            return null;
        }
        return what + " path is " + len + " bytes, over the " + MAX_BYTES + "-byte Unix socket limit: "
                + path.toAbsolutePath() + " (use a shorter state directory)";
    }

    /** Throws {@link VmmException} when {@code path} does not fit. */
    public static Path check(String what, Path path) {
        String problem = problem(what, path);
        if (problem != null) {
            throw new VmmException(problem);
        }
        return path.toAbsolutePath();
    }
}
