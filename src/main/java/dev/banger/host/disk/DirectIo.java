package dev.banger.host.disk;

import com.sun.nio.file.ExtendedOpenOption;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Whether a file's file system takes {@code O_DIRECT} (ext4, XFS and btrfs do; tmpfs and some FUSE ones may not). */
public final class DirectIo {

    private DirectIo() {
    }

    /** True when {@code file} opens with {@code O_DIRECT}; false when it does not, or cannot be opened at all. */
    public static boolean supported(Path file) {
        try (FileChannel ignored = FileChannel.open(file, StandardOpenOption.READ, ExtendedOpenOption.DIRECT)) {
            return true;
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return false;
        }
    }
}
