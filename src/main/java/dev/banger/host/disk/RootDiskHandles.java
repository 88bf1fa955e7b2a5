package dev.banger.host.disk;

import java.nio.file.Path;
import java.util.Objects;

/**
 * The transient host resources a root disk holds while its VM runs; they belong in the VM's handles (memory and
 * {@code handles.json}), never in the store. Any field but {@code strategy} may be null: nothing acquired yet
 * (a half-built disk) or nothing this strategy needs (qcow2 overlays and copies hold nothing).
 *
 * @param strategy name of the strategy that acquired them, whose {@code teardown} releases them
 * @param baseLoop read-only loop over the image (dm-snapshot)
 * @param cowLoop loop over the VM's COW file (dm-snapshot)
 * @param dmName device-mapper name, {@code banger-<vmid>} (dm-snapshot)
 * @param dmDevice {@code /dev/mapper/<dmName>} (dm-snapshot)
 */
public record RootDiskHandles(String strategy, LoopDevice baseLoop, LoopDevice cowLoop, String dmName,
                              Path dmDevice) {

    public RootDiskHandles {
        Objects.requireNonNull(strategy, "strategy");
    }

    /** No resources held (yet). */
    public static RootDiskHandles none(String strategy) {
        return new RootDiskHandles(strategy, null, null, null, null);
    }

    public boolean isEmpty() {
        return baseLoop == null && cowLoop == null && dmName == null && dmDevice == null;
    }

    RootDiskHandles withBaseLoop(LoopDevice loop) {
        return new RootDiskHandles(strategy, loop, cowLoop, dmName, dmDevice);
    }

    RootDiskHandles withCowLoop(LoopDevice loop) {
        return new RootDiskHandles(strategy, baseLoop, loop, dmName, dmDevice);
    }

    RootDiskHandles withDm(String name, Path device) {
        return new RootDiskHandles(strategy, baseLoop, cowLoop, name, device);
    }
}
