package dev.banger.host.disk;

import dev.banger.host.Command;
import dev.banger.host.CommandRunner;
import dev.banger.model.VmmKind;
import dev.banger.vmm.DiskSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A private copy of the image: {@code cp --reflink=auto} shares extents on btrfs and XFS (instant), and elsewhere
 * copies every allocated block, so creating a VM costs time in proportion to the image. The last resort.
 */
final class ReflinkCopyStrategy implements RootDiskStrategy {

    private static final Logger log = LoggerFactory.getLogger(ReflinkCopyStrategy.class);

    static final String NAME = "reflink-or-copy";
    static final String DISK_FILE = "root.img";
    private static final Duration TIMEOUT = Duration.ofMinutes(30);

    private final CommandRunner runner;

    ReflinkCopyStrategy(CommandRunner runner) {
        this.runner = runner;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int priority() {
        return 100;
    }

    @Override
    public Applicability isApplicable(HostCapabilities host, VmmKind vmm) {
        if (!host.has("cp")) {
            return Applicability.no("cp not found", "apt-get install coreutils");
        }
        return Applicability.yes("works anywhere; instant only where the filesystem supports reflinks");
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
        Path copy = diskFile(request.vmDir());
        if (!Files.isRegularFile(copy)) {
            log.warn("VM {}: no copy-on-write root disk on this host, copying {} (slow unless the filesystem "
                    + "supports reflinks; see: banger doctor for device-mapper and qemu-img)", request.vmId(),
                    request.image());
            DiskFiles.createAtomically(runner, copy, "copy the image to", tmp -> Command.of("cp", "--reflink=auto",
                    "--sparse=always", request.image().toString(), tmp.toString()).withTimeout(TIMEOUT));
        }
        return new RootDisk(copy, DiskSpec.Format.RAW, RootDiskHandles.none(NAME));
    }

    @Override
    public void teardown(RootDiskHandles handles) {
        // Nothing on the host: the copy is a plain file.
    }
}
