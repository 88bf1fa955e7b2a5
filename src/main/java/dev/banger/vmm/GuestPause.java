package dev.banger.vmm;

import java.util.Objects;

/**
 * Why a VMM has paused its guest (the guest is frozen, its process alive): what the VMM reported, transient, never
 * stored.
 *
 * @param cause what paused it
 * @param detail what the VMM said, in one line ("write to drive disk1 failed: No space left on device")
 */
public record GuestPause(Cause cause, String detail) {

    public GuestPause {
        Objects.requireNonNull(cause, "cause");
        Objects.requireNonNull(detail, "detail");
    }

    /** What paused a guest, each with the few words {@code vm list} shows. */
    public enum Cause {
        /** A write to one of its disks found the host filesystem full; the VMM retries it on resume. */
        HOST_DISK_FULL("host disk full"),
        /** Another I/O error on one of its disks, configured to stop the guest. */
        IO_ERROR("host I/O error"),
        /** Someone paused it through the VMM's control interface (QMP {@code stop}). */
        REQUESTED("paused through the VMM's monitor"),
        /** Any other pause the VMM reports (a migration or snapshot in progress, ...); the detail says which. */
        OTHER("paused by the VMM");

        private final String words;

        Cause(String words) {
            this.words = words;
        }

        public String words() {
            return words;
        }
    }

    /** The short reason: {@code host disk full}. */
    public String reason() {
        return cause.words();
    }
}
