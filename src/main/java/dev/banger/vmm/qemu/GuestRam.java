package dev.banger.vmm.qemu;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Where a QEMU guest's RAM lives: anonymous memory (a cold boot), a shared file mapping (a guest that will be
 * captured: its RAM is written through to the file, so a capture only has to save the device state), or a private
 * copy-on-write mapping of a captured guest's file with the device state still to come (a restore: QEMU starts
 * with {@code -incoming defer}).
 */
record GuestRam(Mode mode, Path file) {

    enum Mode { ANONYMOUS, SHARED_FILE, RESTORE_FROM_FILE }

    static final GuestRam ANONYMOUS = new GuestRam(Mode.ANONYMOUS, null);

    GuestRam {
        Objects.requireNonNull(mode, "mode");
        if ((mode == Mode.ANONYMOUS) != (file == null)) {
            throw new IllegalArgumentException(mode + " RAM " + (file == null ? "needs" : "takes no") + " file");
        }
    }

    static GuestRam sharedFile(Path file) {
        return new GuestRam(Mode.SHARED_FILE, file);
    }

    static GuestRam restoreFrom(Path file) {
        return new GuestRam(Mode.RESTORE_FROM_FILE, file);
    }
}
