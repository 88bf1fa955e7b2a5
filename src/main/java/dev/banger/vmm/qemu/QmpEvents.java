package dev.banger.vmm.qemu;

import dev.banger.vmm.GuestPause;
import dev.banger.vmm.PauseReports;
import dev.banger.vmm.VmmException;
import dev.banger.vmm.VmmHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One QEMU's pauses as its QMP events tell them: a connection kept open on the VM's second monitor
 * ({@link QemuFiles#eventSocket}), read without waiting at each {@link #poll}. {@code BLOCK_IO_ERROR} with action
 * {@code stop} says why the {@code STOP} that follows it paused the guest ({@code nospace}: the host disk is full;
 * QEMU's default {@code werror=enospc} pauses on ENOSPC and reports other write errors to the guest);
 * {@code RESUME} ends a pause; {@code SHUTDOWN} says why QEMU is about to exit. A pause whose cause no event gave
 * (one that began before the connection, an adopted VM's, a {@code STOP} from another monitor) is asked with
 * {@code query-status} and, for {@code io-error}, {@code query-block}'s per-drive I/O status.
 *
 * <p>A QEMU started before this monitor existed has none: its pauses are then asked with {@code query-status} on
 * the control socket, at most every {@link #STATUS_POLL_PERIOD}.
 */
public final class QmpEvents implements PauseReports {

    static final Duration TIMEOUT = Duration.ofSeconds(2);
    static final Duration STATUS_POLL_PERIOD = Duration.ofSeconds(5);

    private final Path controlSocket;
    private final QmpClient events; // null: no event monitor, ask the control socket
    private GuestPause pause;
    private GuestPause lastStoppingError;
    private String shutdown;
    private long nextStatusPoll;

    private QmpEvents(Path controlSocket, QmpClient events) {
        this.controlSocket = controlSocket;
        this.events = events;
    }

    /**
     * Connects to the event monitor of the QEMU {@code handle} names and learns whether its guest is paused now.
     *
     * @throws VmmException when QEMU does not answer
     */
    public static QmpEvents open(VmmHandle handle) {
        Path socket = QemuFiles.eventSocket(handle.controlSocket());
        if (!Files.exists(socket)) {
            return new QmpEvents(handle.controlSocket(), null);
        }
        QmpClient client = QmpClient.connect(socket, TIMEOUT);
        try {
            QmpEvents opened = new QmpEvents(handle.controlSocket(), client);
            opened.pause = askStatus(client);
            return opened;
        } catch (RuntimeException e) {
            client.close();
            throw e;
        }
    }

    @Override
    public synchronized Optional<GuestPause> poll() {
        if (events == null) {
            if (System.nanoTime() - nextStatusPoll >= 0) {
                nextStatusPoll = System.nanoTime() + STATUS_POLL_PERIOD.toNanos();
                try (QmpClient control = QmpClient.connect(controlSocket, TIMEOUT)) {
                    pause = askStatus(control);
                }
            }
            return Optional.ofNullable(pause);
        }
        for (Map<?, ?> event : events.events()) {
            apply(event);
        }
        return Optional.ofNullable(pause);
    }

    @Override
    public synchronized Optional<String> shutdown() {
        return Optional.ofNullable(shutdown);
    }

    private void apply(Map<?, ?> event) {
        Map<?, ?> data = event.get("data") instanceof Map<?, ?> m ? m : Map.of();
        switch (String.valueOf(event.get("event"))) {
            case "BLOCK_IO_ERROR" -> {
                if ("stop".equals(data.get("action"))) {
                    lastStoppingError = fromIoError(data);
                }
            }
            case "STOP" -> pause = lastStoppingError != null ? lastStoppingError : askStatus(events);
            case "RESUME" -> {
                pause = null;
                lastStoppingError = null;
            }
            case "SHUTDOWN" -> shutdown = text(data, "reason", "unknown")
                    + (Boolean.TRUE.equals(data.get("guest")) ? " (by the guest)" : "");
            default -> {
                // Other events (RTC_CHANGE, NIC_RX_FILTER_CHANGED, ...) say nothing about pauses.
            }
        }
    }

    /** A {@code BLOCK_IO_ERROR} event's pause. */
    static GuestPause fromIoError(Map<?, ?> data) {
        boolean nospace = Boolean.TRUE.equals(data.get("nospace"));
        String why = data.get("reason") instanceof String r ? r : nospace ? "no space left" : "I/O error";
        String detail = text(data, "operation", "I/O") + " on drive " + text(data, "device", "?") + " failed: "
                + why;
        return new GuestPause(nospace ? GuestPause.Cause.HOST_DISK_FULL : GuestPause.Cause.IO_ERROR, detail);
    }

    private static String text(Map<?, ?> data, String key, String fallback) {
        return data.get(key) instanceof String value ? value : fallback;
    }

    /** The pause {@code query-status} (and {@code query-block}, for an I/O error) describe, or null. */
    static GuestPause askStatus(QmpClient qmp) {
        Object status = qmp.execute("query-status", TIMEOUT);
        if (!(status instanceof Map<?, ?> s) || Boolean.TRUE.equals(s.get("running"))) {
            return null;
        }
        String state = String.valueOf(s.get("status"));
        return switch (state) {
            case "io-error" -> fromBlockStatus(qmp.execute("query-block", TIMEOUT));
            case "paused" -> new GuestPause(GuestPause.Cause.REQUESTED, "QEMU's status is paused (QMP stop)");
            // Not paused: QEMU is on its way out; its exit is the watcher's to notice.
            case "shutdown", "guest-panicked", "internal-error" -> null;
            default -> new GuestPause(GuestPause.Cause.OTHER, "QEMU's status is " + state);
        };
    }

    /** Which drive stopped the guest, from {@code query-block}'s {@code io-status} (nospace, failed). */
    static GuestPause fromBlockStatus(Object blocks) {
        GuestPause failed = null;
        if (blocks instanceof List<?> list) {
            for (Object b : list) {
                if (!(b instanceof Map<?, ?> drive)) {
                    continue;
                }
                Object device = drive.get("device");
                if ("nospace".equals(drive.get("io-status"))) {
                    return new GuestPause(GuestPause.Cause.HOST_DISK_FULL,
                            "write on drive " + device + " failed: No space left on device");
                }
                if ("failed".equals(drive.get("io-status")) && failed == null) {
                    failed = new GuestPause(GuestPause.Cause.IO_ERROR, "I/O on drive " + device + " failed");
                }
            }
        }
        return failed != null ? failed
                : new GuestPause(GuestPause.Cause.IO_ERROR, "QEMU's status is io-error (no drive says which)");
    }

    /** Resumes the guest through the control socket. */
    static void resume(VmmHandle handle) {
        try (QmpClient qmp = QmpClient.connect(handle.controlSocket(), TIMEOUT)) {
            qmp.execute("cont", TIMEOUT);
        }
    }

    @Override
    public void close() {
        if (events != null) {
            events.close();
        }
    }
}
