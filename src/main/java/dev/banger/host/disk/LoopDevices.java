package dev.banger.host.disk;

import dev.banger.host.Command;
import dev.banger.host.CommandFailedException;
import dev.banger.host.CommandResult;
import dev.banger.host.CommandRunner;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Attaches and detaches loop devices with {@code losetup}. */
final class LoopDevices {

    private static final Logger log = LoggerFactory.getLogger(LoopDevices.class);
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final String DELETED_SUFFIX = " (deleted)";

    /** How a release ended; all three leave nothing of ours attached. */
    enum Released { DETACHED, ALREADY_GONE, NOT_OURS }

    private final CommandRunner runner;

    LoopDevices(CommandRunner runner) {
        this.runner = runner;
    }

    /**
     * {@code losetup --find --show [--read-only] FILE}: the first free loop device, attached to {@code file} by its
     * real path, which is what the kernel reports as the backing file and {@link #detach} compares against.
     */
    LoopDevice attach(Path given, boolean readOnly) {
        Path file;
        try {
            file = given.toRealPath();
        } catch (IOException e) {
            throw new RootDiskException("cannot attach a loop device to " + given + ": " + e, e);
        }
        Command command = readOnly
                ? Command.of("losetup", "--find", "--show", "--read-only", file.toString())
                : Command.of("losetup", "--find", "--show", file.toString());
        String device;
        try {
            device = runner.run(command.withTimeout(TIMEOUT)).stdoutText().strip();
        } catch (CommandFailedException e) {
            throw new RootDiskException("cannot attach a loop device to " + file + ": " + e.getMessage()
                    + "; check that the loop module is loaded (modprobe loop) and free loop devices remain "
                    + "(losetup --list)", e);
        }
        if (!device.startsWith("/dev/")) {
            throw new RootDiskException("losetup attached " + file + " but printed '" + device
                    + "' instead of a device; detach it by hand (losetup --associated " + file + ")");
        }
        return new LoopDevice(device, file);
    }

    /**
     * Detaches {@code loop} if it is still attached to its backing file. A device that is free, missing, or now
     * backed by another file is left alone. A loop still held open (by a dm table) is detached by the kernel
     * once released (losetup sets autoclear on a busy device).
     */
    Released detach(LoopDevice loop) {
        CommandResult query = runner.run(Command.of("losetup", "--noheadings", "--output", "BACK-FILE",
                loop.device()).withTimeout(TIMEOUT).allowingFailure());
        if (!query.succeeded()) {
            if (gone(query.stderrText())) {
                return Released.ALREADY_GONE;
            }
            throw new RootDiskException("cannot inspect loop device " + loop.device() + ": "
                    + lastLine(query.stderrText()));
        }
        String backing = query.stdoutText().strip();
        if (backing.endsWith(DELETED_SUFFIX)) {
            backing = backing.substring(0, backing.length() - DELETED_SUFFIX.length());
        }
        if (backing.isEmpty()) {
            return Released.ALREADY_GONE;
        }
        if (!backing.equals(loop.backingFile().toString())) {
            log.warn("not detaching {}: it is attached to {} now, not {}", loop.device(), backing,
                    loop.backingFile());
            return Released.NOT_OURS;
        }
        CommandResult detach = runner.run(Command.of("losetup", "--detach", loop.device())
                .withTimeout(TIMEOUT).allowingFailure());
        if (detach.succeeded()) {
            return Released.DETACHED;
        }
        if (gone(detach.stderrText())) {
            return Released.ALREADY_GONE;
        }
        throw new RootDiskException("cannot detach loop device " + loop.device() + " (" + loop.backingFile()
                + "): " + lastLine(detach.stderrText()) + "; try: losetup --detach " + loop.device());
    }

    /** ENXIO (not attached), ENODEV (no such minor) and ENOENT (no device node) all mean nothing to release. */
    private static boolean gone(String stderr) {
        return stderr.contains("No such device") || stderr.contains("No such file or directory");
    }

    static String lastLine(String text) {
        String trimmed = text.strip();
        int nl = trimmed.lastIndexOf('\n');
        return trimmed.isEmpty() ? "(no error output)" : nl < 0 ? trimmed : trimmed.substring(nl + 1);
    }
}
