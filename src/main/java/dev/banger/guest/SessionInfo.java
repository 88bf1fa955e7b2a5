package dev.banger.guest;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * A guest session as {@code session.list} reports it.
 *
 * @param name the session's name
 * @param pid its process (and process group) in the guest
 * @param argv what it runs
 * @param tty whether it runs on a PTY
 * @param exitStatus how it ended; null while it runs
 * @param startedAt when it started, by the guest's clock
 * @param runtime how long it has run (or ran)
 * @param outputBytes all output it ever wrote
 * @param droppedBytes how much of that left the agent's ring buffer (the oldest output)
 * @param attached attach channels open on it now
 */
public record SessionInfo(String name, int pid, List<String> argv, boolean tty, ExitStatus exitStatus,
                          Instant startedAt, Duration runtime, long outputBytes, long droppedBytes, int attached) {

    public SessionInfo {
        argv = List.copyOf(argv);
    }

    public boolean running() {
        return exitStatus == null;
    }
}
