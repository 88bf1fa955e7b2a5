package dev.banger.host;

import java.time.Duration;
import java.util.List;

/**
 * Runs an external program. Every program banger starts goes through one of these: argv lists only (never a
 * shell string), captured output, a timeout, and the full command line in any error. It is also the seam tests
 * use to record command sequences where the real program cannot run here (device-mapper).
 */
public interface CommandRunner {

    /**
     * Runs {@code command} to completion.
     *
     * @throws CommandFailedException when the program exits non-zero (and {@link Command#allowFailure()} is false),
     *     cannot be started, or runs past its timeout (it is then killed)
     */
    CommandResult run(Command command);

    /** Shorthand for {@code run(Command.of(argv))}. */
    default CommandResult run(String... argv) {
        return run(Command.of(argv));
    }

    /** Shorthand for {@code run(Command.of(argv))}. */
    default CommandResult run(List<String> argv) {
        return run(Command.of(argv));
    }

    Duration DEFAULT_TIMEOUT = Duration.ofMinutes(2);
}
