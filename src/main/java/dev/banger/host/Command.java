package dev.banger.host;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * One invocation of an external program.
 *
 * @param argv program and arguments, never passed through a shell
 * @param env extra environment variables (added to the runner's own environment)
 * @param cwd working directory, or null for the runner's
 * @param stdin bytes fed to the program's standard input, or null for none (stdin is then /dev/null)
 * @param timeout how long the program may run before it is killed
 * @param allowFailure when true a non-zero exit is returned as a result instead of thrown
 * @param outputLines receives each line of stdout and stderr as the program writes it (without the line end),
 *     on the runner's reader threads, besides the captured output; null for none
 */
public record Command(List<String> argv, Map<String, String> env, Path cwd, byte[] stdin, Duration timeout,
                      boolean allowFailure, Consumer<String> outputLines) {

    public Command {
        argv = List.copyOf(argv);
        if (argv.isEmpty()) {
            throw new IllegalArgumentException("empty command line");
        }
        env = Map.copyOf(env);
        Objects.requireNonNull(timeout, "timeout");
    }

    public static Command of(String... argv) {
        return of(List.of(argv));
    }

    public static Command of(List<String> argv) {
        return new Command(argv, Map.of(), null, null, CommandRunner.DEFAULT_TIMEOUT, false, null);
    }

    public Command withEnv(Map<String, String> extra) {
        return new Command(argv, extra, cwd, stdin, timeout, allowFailure, outputLines);
    }

    public Command withCwd(Path dir) {
        return new Command(argv, env, dir, stdin, timeout, allowFailure, outputLines);
    }

    public Command withStdin(byte[] input) {
        return new Command(argv, env, cwd, input, timeout, allowFailure, outputLines);
    }

    public Command withTimeout(Duration limit) {
        return new Command(argv, env, cwd, stdin, limit, allowFailure, outputLines);
    }

    /** Returns this command with non-zero exits reported in the result rather than thrown. */
    public Command allowingFailure() {
        return new Command(argv, env, cwd, stdin, timeout, true, outputLines);
    }

    /** Returns this command with its output lines also given to {@code lines} as they come (progress). */
    public Command withOutputLines(Consumer<String> lines) {
        return new Command(argv, env, cwd, stdin, timeout, allowFailure, lines);
    }

    /** The command line as a human reads it in an error message (arguments with spaces quoted). */
    public String display() {
        StringBuilder sb = new StringBuilder();
        for (String arg : argv) {
            if (sb.length() > 0) {
                sb.append(' ');
            }
            sb.append(arg.isEmpty() || arg.chars().anyMatch(c -> c == ' ' || c == '\'' || c == '"')
                    ? "'" + arg.replace("'", "'\\''") + "'" : arg);
        }
        return sb.toString();
    }
}
