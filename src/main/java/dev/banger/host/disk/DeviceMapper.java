package dev.banger.host.disk;

import dev.banger.host.Command;
import dev.banger.host.CommandFailedException;
import dev.banger.host.CommandResult;
import dev.banger.host.CommandRunner;
import java.time.Duration;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Creates and removes device-mapper devices with {@code dmsetup}. */
final class DeviceMapper {

    private static final Logger log = LoggerFactory.getLogger(DeviceMapper.class);
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    /** Sectors per COW chunk: 4 KiB, the guest filesystem's block size. */
    static final int CHUNK_SECTORS = 8;

    private final CommandRunner runner;
    private final int removeAttempts;
    private final Duration firstRetryDelay;

    /**
     * @param removeAttempts how often {@code dmsetup remove} is tried while the device is busy (udev's blkid probe
     *     holds a just-closed device open briefly)
     * @param firstRetryDelay pause after the first busy attempt; doubles after each further one
     */
    DeviceMapper(CommandRunner runner, int removeAttempts, Duration firstRetryDelay) {
        if (removeAttempts < 1) {
            throw new IllegalArgumentException("removeAttempts must be at least 1: " + removeAttempts);
        }
        this.runner = runner;
        this.removeAttempts = removeAttempts;
        this.firstRetryDelay = firstRetryDelay;
    }

    /** A persistent snapshot of {@code origin} whose changes go to {@code cow}, as {@code /dev/mapper/NAME}. */
    void createSnapshot(String name, long sectors, String origin, String cow) {
        String table = "0 " + sectors + " snapshot " + origin + " " + cow + " P " + CHUNK_SECTORS;
        try {
            runner.run(Command.of("dmsetup", "create", name, "--table", table).withTimeout(TIMEOUT));
        } catch (CommandFailedException e) {
            throw new RootDiskException("cannot create device-mapper snapshot " + name + ": " + e.getMessage()
                    + "; check that the snapshot target is available (modprobe dm_snapshot; dmsetup targets) and, "
                    + "if a device of that name is left over from a crash, remove it (dmsetup remove " + name + ")", e);
        }
    }

    /**
     * Removes device {@code name}, retrying while it is busy.
     *
     * @return false when there was no such device
     */
    boolean remove(String name) {
        Duration delay = firstRetryDelay;
        for (int attempt = 1; ; attempt++) {
            CommandResult result = runner.run(Command.of("dmsetup", "remove", name).withTimeout(TIMEOUT)
                    .allowingFailure());
            if (result.succeeded()) {
                return true;
            }
            String stderr = result.stderrText();
            if (stderr.contains("not found") || stderr.contains("No such device or address")) {
                return false;
            }
            if (!stderr.toLowerCase(Locale.ROOT).contains("busy")) {
                throw new RootDiskException("cannot remove device-mapper device " + name + ": "
                        + LoopDevices.lastLine(stderr) + "; try: dmsetup remove " + name);
            }
            if (attempt >= removeAttempts) {
                throw new RootDiskException("cannot remove device-mapper device " + name + ": still busy after "
                        + attempt + " attempts; find what holds it (dmsetup info " + name + "; fuser -vm /dev/mapper/"
                        + name + "), stop it, then: dmsetup remove " + name);
            }
            log.info("device-mapper device {} is busy (attempt {} of {}); retrying in {} ms", name, attempt,
                    removeAttempts, delay.toMillis());
            sleep(delay);
            delay = delay.multipliedBy(2);
        }
    }

    private static void sleep(Duration delay) {
        try {
            Thread.sleep(delay.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RootDiskException("interrupted while waiting to remove a busy device-mapper device");
        }
    }
}
