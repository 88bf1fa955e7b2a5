package dev.banger.host.disk;

import dev.banger.host.Command;
import dev.banger.host.CommandRunner;
import dev.banger.model.VmmKind;
import dev.banger.vmm.DiskSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * A qcow2 overlay whose backing file is the image: creating it writes a few hundred KiB whatever the image size,
 * and QEMU opens the backing file read-only. Holds no host resources, so teardown has nothing to do.
 */
final class Qcow2OverlayStrategy implements RootDiskStrategy {

    static final String NAME = "qcow2-overlay";
    static final String DISK_FILE = "root.qcow2";
    private static final Duration TIMEOUT = Duration.ofMinutes(1);

    private final CommandRunner runner;

    Qcow2OverlayStrategy(CommandRunner runner) {
        this.runner = runner;
    }

    @Override
    public String name() {
        return NAME;
    }

    /** First for QEMU: unprivileged, and nothing on the host to leak if the daemon dies. */
    @Override
    public int priority() {
        return 300;
    }

    @Override
    public Applicability isApplicable(HostCapabilities host, VmmKind vmm) {
        if (vmm != VmmKind.QEMU) {
            return Applicability.no(vmm.wireName() + " attaches only raw disks, and a qcow2 overlay is read by "
                    + "QEMU alone", null);
        }
        if (!host.has("qemu-img")) {
            return Applicability.no("qemu-img not found", "apt-get install qemu-utils");
        }
        return Applicability.yes("QEMU reads qcow2 overlays; qemu-img found");
    }

    @Override
    public Path diskFile(Path vmDir) {
        return vmDir.resolve(DISK_FILE);
    }

    @Override
    public boolean opensDiskFile() {
        return true;
    }

    @Override
    public RootDisk provision(RootDiskRequest request, Consumer<RootDiskHandles> acquired) {
        Path overlay = diskFile(request.vmDir());
        if (!Files.isRegularFile(overlay)) {
            DiskFiles.createAtomically(runner, overlay, "create the qcow2 overlay", tmp -> Command.of("qemu-img",
                    "create", "-q", "-f", "qcow2", "-b", request.image().toString(), "-F", "raw", tmp.toString())
                    .withTimeout(TIMEOUT));
        }
        return new RootDisk(overlay, DiskSpec.Format.QCOW2, RootDiskHandles.none(NAME));
    }

    @Override
    public void teardown(RootDiskHandles handles) {
        // Nothing on the host: QEMU held the overlay open, and it has exited.
    }
}
