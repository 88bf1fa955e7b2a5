package dev.banger.api;

/** What {@code daemon.status} reports about the running daemon. */
public record DaemonStatus(long pid, String version, String startedAt, long uptimeMs, String stateDir,
                           String socket, String logFile) {
}
