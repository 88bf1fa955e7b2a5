package dev.banger.host.disk;

import dev.banger.host.Command;
import dev.banger.host.CommandFailedException;
import dev.banger.host.CommandResult;
import dev.banger.host.CommandRunner;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Attaches and detaches loop devices with {@code losetup}. */
final class LoopDevices {

    private static final Logger log = LoggerFactory.getLogger(LoopDevices.class);
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final String DELETED_SUFFIX = " (deleted)";
    /** How often a device taken by another program between find and attach is replaced by the next free one. */
    static final int ATTACH_ATTEMPTS = 5;
    /** Serialises find-record-attach across the JVM (a leaf: nothing else is locked inside it). */
    private static final Object RESERVATION = new Object();

    /** How a release ended; all three leave nothing of ours attached. */
    enum Released { DETACHED, ALREADY_GONE, NOT_OURS }

    private final CommandRunner runner;

    LoopDevices(CommandRunner runner) {
        this.runner = runner;
    }

    /**
     * Attaches a loop device to {@code given} by its real path, which is what the kernel reports as the backing
     * file and {@link #detach} compares against, naming the device to {@code reserving} <em>before</em> attaching
     * it: {@code losetup --find} names the first free device, {@code reserving} records it (the VM's handles), then
     * {@code losetup [--read-only] DEVICE FILE} attaches it. A daemon killed between the two leaves handles naming
     * a device that is free or ours, both of which {@link #detach} handles; never an attached device nobody
     * recorded. When another program takes the device in between, the attach fails busy and the next free device
     * is named and tried. Reservations are serialised in this JVM, so two boots never name the same free device.
     *
     * @param reserving records the device about to be attached; if it throws, nothing is attached
     */
    LoopDevice attach(Path given, boolean readOnly, Consumer<LoopDevice> reserving) {
        Path file;
        try {
            file = given.toRealPath();
        } catch (IOException e) {
            throw new RootDiskException("cannot attach a loop device to " + given + ": " + e, e);
        }
        synchronized (RESERVATION) {
            for (int attempt = 1; ; attempt++) {
                LoopDevice loop = new LoopDevice(findFree(file), file);
                reserving.accept(loop);
                Command command = readOnly
                        ? Command.of("losetup", "--read-only", loop.device(), file.toString())
                        : Command.of("losetup", loop.device(), file.toString());
                CommandResult result = runner.run(command.withTimeout(TIMEOUT).allowingFailure());
                if (result.succeeded()) {
                    return loop;
                }
                String why = lastLine(result.stderrText());
                if (!why.contains("Device or resource busy") || attempt >= ATTACH_ATTEMPTS) {
                    throw new RootDiskException("cannot attach a loop device to " + file + " (" + loop.device() + "): "
                            + why + (attempt > 1 ? " (attempt " + attempt + ")" : "") + "; check free loop devices "
                            + "remain (losetup --list)");
                }
                log.info("loop device {} was taken by another program before it could be attached to {}; trying "
                        + "the next free one", loop.device(), file);
            }
        }
    }

    /** {@link #attach(Path, boolean, Consumer)} for a caller with nothing to record (tests, tools). */
    LoopDevice attach(Path given, boolean readOnly) {
        return attach(given, readOnly, loop -> { });
    }

    /** {@code losetup --find}: the first free loop device (the kernel makes one when none is free). */
    private String findFree(Path forFile) {
        String device;
        try {
            device = runner.run(Command.of("losetup", "--find").withTimeout(TIMEOUT)).stdoutText().strip();
        } catch (CommandFailedException e) {
            throw new RootDiskException("cannot attach a loop device to " + forFile + ": " + e.getMessage()
                    + "; check that the loop module is loaded (modprobe loop) and free loop devices remain "
                    + "(losetup --list)", e);
        }
        if (!device.startsWith("/dev/")) {
            throw new RootDiskException("losetup --find printed '" + device + "' instead of a free loop device; "
                    + "check the loop module (modprobe loop; losetup --list)");
        }
        return device;
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
