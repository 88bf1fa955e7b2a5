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
    private final Runnable shutdown;

    DaemonControl(BangerPaths paths, Clock clock, Runnable shutdown) {
        this.paths = paths;
        this.clock = clock;
        this.startedAt = clock.instant();
        this.shutdown = shutdown;
    }

    DaemonStatus status() {
        return new DaemonStatus(ProcessHandle.current().pid(), BuildInfo.version(), startedAt.toString(),
                Duration.between(startedAt, clock.instant()).toMillis(), paths.stateDir().toString(),
                paths.socket().toString(), paths.daemonLog().toString());
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
