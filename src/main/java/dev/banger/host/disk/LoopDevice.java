package dev.banger.host.disk;

import java.nio.file.Path;
import java.util.Objects;

/**
 * A loop device banger attached, with the file behind it. The file is checked again before the device is
 * detached, so handles read back after a host reboot never detach a loop device someone else now uses.
 *
 * @param device the device node, e.g. {@code /dev/loop3}
 * @param backingFile the absolute path of the file it was attached to
 */
public record LoopDevice(String device, Path backingFile) {

    public LoopDevice {
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(backingFile, "backingFile");
    }
}
