package dev.banger.vmm.qemu;

import java.nio.file.Path;

/** Names of the files QEMU keeps in a VM's directory. */
final class QemuFiles {

    static final String PID_FILE = "qemu.pid";
    /** QEMU's stderr after it daemonizes (warnings, "terminating on signal"); launch errors go to the caller. */
    static final String LOG_FILE = "qemu.log";

    private QemuFiles() {
    }

    static Path pidFile(Path vmDir) {
        return vmDir.resolve(PID_FILE).toAbsolutePath();
    }

    static Path logFile(Path vmDir) {
        return vmDir.resolve(LOG_FILE).toAbsolutePath();
    }
}
