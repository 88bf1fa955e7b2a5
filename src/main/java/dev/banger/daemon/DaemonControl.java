package dev.banger.daemon;

import dev.banger.api.DaemonStatus;
import dev.banger.config.BangerPaths;
import dev.banger.config.BuildInfo;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/** The daemon's own RPCs: status and shutdown. */
final class DaemonControl {

    private final BangerPaths paths;
    private final Clock clock;
    private final Instant startedAt;
    private final String configFingerprint;
    private final Runnable shutdown;

    /** @param configFingerprint the fingerprint of the config file the daemon read at start */
    DaemonControl(BangerPaths paths, Clock clock, String configFingerprint, Runnable shutdown) {
        this.paths = paths;
        this.clock = clock;
        this.startedAt = clock.instant();
        this.configFingerprint = configFingerprint;
        this.shutdown = shutdown;
    }

    DaemonStatus status() {
        return new DaemonStatus(ProcessHandle.current().pid(), BuildInfo.version(), startedAt.toString(),
                Duration.between(startedAt, clock.instant()).toMillis(), paths.stateDir().toString(),
                paths.socket().toString(), paths.daemonLog().toString(), configFingerprint);
    }

    /** Begins an orderly shutdown after the current call has answered. */
    void requestShutdown() {
        Thread t = new Thread(() -> {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            shutdown.run();
        }, "shutdown-request");
        t.setDaemon(false);
        t.start();
    }
}
