package dev.banger.vmm.qemu;

import java.nio.file.Path;

/** Names of the files QEMU keeps in a VM's directory. */
final class QemuFiles {

    static final String PID_FILE = "qemu.pid";
    /** QEMU's stderr after it daemonizes (warnings, "terminating on signal"); launch errors go to the caller. */
    static final String LOG_FILE = "qemu.log";

    /** The second QMP monitor, beside the control socket: {@link QmpEvents} keeps it open to hear events. */
    static final String EVENT_SOCKET = "qmp-events.sock";

    private QemuFiles() {
    }

    static Path pidFile(Path vmDir) {
        return vmDir.resolve(PID_FILE).toAbsolutePath();
    }

    static Path logFile(Path vmDir) {
        return vmDir.resolve(LOG_FILE).toAbsolutePath();
    }

    /**
     * QEMU serves one client per monitor socket at a time, so the events are heard on a monitor of their own: a
     * socket beside the control socket (in the VM's runtime dir, removed with it), found again from the control
     * socket alone, as an adopted VM's handles give it.
     */
    static Path eventSocket(Path controlSocket) {
        return controlSocket.toAbsolutePath().resolveSibling(EVENT_SOCKET);
    }
}
