package dev.banger.vm;

import dev.banger.guest.AgentClient;
import dev.banger.guest.ExecSpec;
import dev.banger.model.Image;
import dev.banger.model.Vm;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A running VM as the guest-facing services see it: its record, its image (whose Env and WorkingDir a command
 * gets) and its agent connection.
 */
public record GuestTarget(Vm vm, Image image, AgentClient agent) {

    static final int DEFAULT_ROWS = 24;
    static final int DEFAULT_COLS = 80;

    /**
     * A command as the user asked for it, in the image's environment: the image's Env overlaid with {@code env},
     * in {@code cwd} or else the image's WorkingDir, on a terminal of {@code rows}x{@code cols} (24x80 when not
     * given) when {@code tty}.
     *
     * @param env extra variables, or null
     * @param cwd the working directory, or null
     */
    public ExecSpec command(List<String> argv, Map<String, String> env, String cwd, boolean tty, int rows,
                            int cols) {
        Map<String, String> merged = new LinkedHashMap<>(image.env());
        if (env != null) {
            merged.putAll(env);
        }
        ExecSpec spec = ExecSpec.of(argv).withEnv(merged);
        String dir = cwd != null ? cwd : image.workingDir();
        if (dir != null) {
            spec = spec.withCwd(dir);
        }
        if (tty) {
            spec = spec.withTty(rows > 0 ? rows : DEFAULT_ROWS, cols > 0 ? cols : DEFAULT_COLS);
        }
        return spec;
    }
}
