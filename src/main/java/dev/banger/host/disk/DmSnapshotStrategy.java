package dev.banger.host.disk;

import dev.banger.host.CommandRunner;
import dev.banger.model.VmmKind;
import dev.banger.util.UndoStack;
import dev.banger.vmm.DiskSpec;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * A device-mapper snapshot: a read-only loop over the image (the origin), a loop over a sparse COW file in the
 * VM dir, and {@code dmsetup create banger-<vmid>} with a persistent {@code snapshot} target over the two. The
 * guest sees a raw block device, so this is the Firecracker path. The COW file is the VM's durable disk: stop
 * tears down the dm device and both loops; start builds them again over the same COW file.
 */
final class DmSnapshotStrategy implements RootDiskStrategy {

    static final String NAME = "dm-snapshot";
    static final String DISK_FILE = "root.cow";
    static final String DM_PREFIX = "banger-";

    private static final long SECTOR = 512;
    private static final long CHUNK = DeviceMapper.CHUNK_SECTORS * SECTOR;
    /** A persistent exception store's metadata chunk holds this many 16-byte chunk mappings. */
    private static final long EXCEPTIONS_PER_METADATA_CHUNK = CHUNK / 16;

    private final LoopDevices loops;
    private final DeviceMapper dm;

    DmSnapshotStrategy(CommandRunner runner) {
        this(runner, 6, Duration.ofMillis(100));
    }

    /** With the retry policy of {@code dmsetup remove} while busy; tests use no delay. */
    DmSnapshotStrategy(CommandRunner runner, int removeAttempts, Duration firstRetryDelay) {
        this.loops = new LoopDevices(runner);
        this.dm = new DeviceMapper(runner, removeAttempts, firstRetryDelay);
    }

    @Override
    public String name() {
        return NAME;
    }

    /** Below qcow2 (which needs no root and leaves no host state for QEMU), above a full copy. */
    @Override
    public int priority() {
        return 200;
    }

    @Override
    public Applicability isApplicable(HostCapabilities host, VmmKind vmm) {
        if (!host.deviceMapper()) {
            return Applicability.no("device-mapper is absent (" + host.deviceMapperEvidence() + ")",
                    "modprobe dm_snapshot");
        }
        if (!host.has("dmsetup")) {
            return Applicability.no("dmsetup not found", "apt-get install dmsetup");
        }
        if (!host.has("losetup")) {
            return Applicability.no("losetup not found", "apt-get install mount (util-linux)");
        }
        if (!host.root()) {
            return Applicability.no("loop and device-mapper devices need root, and bangerd is not root",
                    "run bangerd as root");
        }
        return Applicability.yes("device-mapper (" + host.deviceMapperEvidence() + "), dmsetup and losetup");
    }

    @Override
    public Path diskFile(Path vmDir) {
        return vmDir.resolve(DISK_FILE);
    }

    @Override
    public RootDisk provision(RootDiskRequest request, Consumer<RootDiskHandles> acquired) {
        long imageBytes = imageSize(request.image());
        long sectors = imageBytes / SECTOR;
        String dmName = DM_PREFIX + request.vmId();
        Path dmDevice = Path.of("/dev/mapper", dmName);
        Path cowFile = diskFile(request.vmDir());
        long cowBytes = request.cowBytes() > 0 ? roundUp(request.cowBytes(), CHUNK) : defaultCowBytes(imageBytes);

        UndoStack undo = new UndoStack();
        // Each resource is named in the handles before it is taken (the held[0] the callbacks extend), so a daemon
        // killed at any point leaves handles naming everything attached: teardown skips what was never taken.
        RootDiskHandles[] held = {RootDiskHandles.none(NAME)};
        try {
            LoopDevice base = loops.attach(request.image(), true, reserved ->
                    acquired.accept(held[0] = held[0].withBaseLoop(reserved)));
            undo.push("detach " + base.device(), () -> loops.detach(base));

            if (createCowFileIfAbsent(cowFile, cowBytes)) {
                undo.push("remove " + cowFile, () -> delete(cowFile));
            }

            LoopDevice cow = loops.attach(cowFile, false, reserved ->
                    acquired.accept(held[0] = held[0].withCowLoop(reserved)));
            undo.push("detach " + cow.device(), () -> loops.detach(cow));

            acquired.accept(held[0] = held[0].withDm(dmName, dmDevice));
            dm.createSnapshot(dmName, sectors, base.device(), cow.device());
            undo.push("remove " + dmName, () -> dm.remove(dmName));
            return new RootDisk(dmDevice, DiskSpec.Format.RAW, held[0]);
        } catch (RuntimeException e) {
            undo.unwind(e);
            throw e;
        }
    }

    @Override
    public void teardown(RootDiskHandles handles) {
        List<String> failures = new ArrayList<>();
        if (handles.dmName() != null) {
            attempt(failures, () -> dm.remove(handles.dmName()));
        }
        if (handles.cowLoop() != null) {
            attempt(failures, () -> loops.detach(handles.cowLoop()));
        }
        if (handles.baseLoop() != null) {
            attempt(failures, () -> loops.detach(handles.baseLoop()));
        }
        if (!failures.isEmpty()) {
            throw new RootDiskException("could not release every resource of a " + NAME + " root disk (the rest "
                    + "was released): " + String.join("; ", failures));
        }
    }

    /**
     * Enough for the guest to overwrite every block of the image: the data chunks, one metadata chunk per
     * {@value #EXCEPTIONS_PER_METADATA_CHUNK} of them, and the header chunk. A COW that fills up invalidates
     * the snapshot, and a sparse file costs nothing until written.
     */
    static long defaultCowBytes(long imageBytes) {
        long chunks = (imageBytes + CHUNK - 1) / CHUNK;
        long metadata = (chunks + EXCEPTIONS_PER_METADATA_CHUNK - 1) / EXCEPTIONS_PER_METADATA_CHUNK;
        return (1 + metadata + chunks) * CHUNK;
    }

    /** Creates the sparse COW file under a temporary name, then renames it: it exists complete or not at all. */
    private static boolean createCowFileIfAbsent(Path cowFile, long bytes) {
        if (Files.isRegularFile(cowFile)) {
            return false;
        }
        Path tmp = cowFile.resolveSibling("." + cowFile.getFileName() + ".tmp");
        try {
            Files.deleteIfExists(tmp);
            try (RandomAccessFile file = new RandomAccessFile(tmp.toFile(), "rw")) {
                file.setLength(bytes);
            }
            Files.move(tmp, cowFile, StandardCopyOption.ATOMIC_MOVE);
            return true;
        } catch (IOException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw new RootDiskException("cannot create the copy-on-write file " + cowFile + " (" + bytes
                    + " bytes, sparse): " + e + "; check that " + cowFile.getParent()
                    + " exists and is writable", e);
        }
    }

    private static long imageSize(Path image) {
        long bytes;
        try {
            bytes = Files.size(image);
        } catch (IOException e) {
            throw new RootDiskException("cannot read the image " + image + ": " + e + "; see: banger image list", e);
        }
        if (bytes < SECTOR) {
            throw new RootDiskException("the image " + image + " is " + bytes + " bytes, too small to be a root "
                    + "filesystem; register a valid one (banger image register)");
        }
        return bytes;
    }

    private static void attempt(List<String> failures, Runnable release) {
        try {
            release.run();
        } catch (RootDiskException e) {
            failures.add(e.getMessage());
        }
    }

    private static void delete(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            throw new RootDiskException("cannot remove " + file + ": " + e, e);
        }
    }

    private static long roundUp(long value, long unit) {
        return (value + unit - 1) / unit * unit;
    }
}
