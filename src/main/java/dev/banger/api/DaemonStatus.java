package dev.banger.api;

/**
 * What {@code daemon.status} reports about the running daemon.
 *
 * @param configFingerprint the config file's fingerprint when the daemon read it at start
 *     ({@code DaemonConfig.fingerprint})
 */
public record DaemonStatus(long pid, String version, String startedAt, long uptimeMs, String stateDir,
                           String socket, String logFile, String configFingerprint) {
}
