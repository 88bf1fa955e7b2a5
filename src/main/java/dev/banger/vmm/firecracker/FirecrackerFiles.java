package dev.banger.vmm.firecracker;

import java.nio.file.Path;

/** Names of the files Firecracker keeps in a VM's directory (the serial console goes to the spec's console log). */
final class FirecrackerFiles {

    /** Firecracker's own log, configured through {@code PUT /logger}. */
    static final String LOG_FILE = "firecracker.log";
    /** Firecracker's metrics, one JSON object per line, configured through {@code PUT /metrics}. */
    static final String METRICS_FILE = "firecracker.metrics";
    /** The process's stderr: start-up errors before the API answers, and panics. */
    static final String STDERR_FILE = "firecracker.stderr";

    /**
     * Links to the VM's disks, named by drive id, which a VM that is captured or restored attaches by relative path
     * (see {@code FirecrackerDriver.DrivePaths}).
     */
    static final String DRIVE_LINKS_DIR = "fc-drives";

    private FirecrackerFiles() {
    }

    static Path logFile(Path vmDir) {
        return vmDir.resolve(LOG_FILE).toAbsolutePath();
    }

    static Path metricsFile(Path vmDir) {
        return vmDir.resolve(METRICS_FILE).toAbsolutePath();
    }

    static Path driveLinksDir(Path vmDir) {
        return vmDir.resolve(DRIVE_LINKS_DIR).toAbsolutePath();
    }

    static Path stderrFile(Path vmDir) {
        return vmDir.resolve(STDERR_FILE).toAbsolutePath();
    }
}
