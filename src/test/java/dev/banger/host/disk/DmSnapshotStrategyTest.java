package dev.banger.host.disk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import dev.banger.model.VmmKind;
import dev.banger.host.CommandResult;
import dev.banger.testkit.RecordingCommandRunner;
import dev.banger.vmm.DiskSpec;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dm-snapshot strategy's exact losetup/dmsetup sequences against a recording runner whose fallback models
 * the kernel's loop and dm state ({@link FakeDevices}); device-mapper itself is exercised by
 * {@link DmSnapshotStrategyRealTest} where the host has it.
 */
class DmSnapshotStrategyTest {

    private static final String VM = "0123456789ab";
    private static final long IMAGE_BYTES = 64L << 20;
    private static final long SECTORS = IMAGE_BYTES / 512;
    private static final String TABLE = "'0 " + SECTORS + " snapshot /dev/loop0 /dev/loop1 P 8'";

    @TempDir
    Path tmp;

    private final FakeDevices devices = new FakeDevices();
    private final RecordingCommandRunner runner = new RecordingCommandRunner().otherwise(devices);
    private final DmSnapshotStrategy strategy = new DmSnapshotStrategy(runner, 3, Duration.ZERO);
    private Path image;
    private Path vmDir;
    private Path cow;

    @BeforeEach
    void setUp() throws IOException {
        image = tmp.resolve("images/base.ext4");
        Files.createDirectories(image.getParent());
        try (RandomAccessFile file = new RandomAccessFile(image.toFile(), "rw")) {
            file.setLength(IMAGE_BYTES);
        }
        image = image.toRealPath();
        vmDir = Files.createDirectories(tmp.resolve("vms/" + VM)).toRealPath();
        cow = vmDir.resolve("root.cow");
    }

    private RootDiskRequest request() {
        return new RootDiskRequest(VM, image, vmDir);
    }

    // ---- set-up ----

    @Test
    void provisionAttachesTheBaseReadOnlyThenTheCowThenCreatesTheSnapshot() throws IOException {
        List<RootDiskHandles> progress = new ArrayList<>();

        RootDisk disk = strategy.provision(request(), progress::add);

        assertThat(runner.commandLines()).containsExactly(
                "losetup --find",
                "losetup --read-only /dev/loop0 " + image,
                "losetup --find",
                "losetup /dev/loop1 " + cow,
                "dmsetup create banger-" + VM + " --table " + TABLE);
        assertThat(disk.attachPath()).isEqualTo(Path.of("/dev/mapper/banger-" + VM));
        assertThat(disk.format()).as("Firecracker attaches only raw").isEqualTo(DiskSpec.Format.RAW);
        assertThat(disk.handles()).isEqualTo(new RootDiskHandles("dm-snapshot", new LoopDevice("/dev/loop0", image),
                new LoopDevice("/dev/loop1", cow), "banger-" + VM, Path.of("/dev/mapper/banger-" + VM)));
        assertThat(progress).as("each resource is reported as soon as it is held, for handles.json")
                .extracting(h -> h.baseLoop() != null, h -> h.cowLoop() != null, h -> h.dmName() != null)
                .containsExactly(
                        tuple(true, false, false),
                        tuple(true, true, false),
                        tuple(true, true, true));
        assertThat(devices.loops).containsEntry("/dev/loop0", image.toString()).containsEntry("/dev/loop1",
                cow.toString());
        assertThat(devices.dm).containsOnlyKeys("banger-" + VM);
        assertThat(Files.size(cow)).isEqualTo(DmSnapshotStrategy.defaultCowBytes(IMAGE_BYTES));
        assertThat(allocatedBytes(cow)).as("the COW file is sparse").isLessThan(1 << 20);
    }

    @Test
    void loopsAreAttachedByRealPathBecauseThatIsTheBackingFileTheKernelReports() throws IOException {
        Path link = Files.createSymbolicLink(tmp.resolve("images-link"), image.getParent());
        Path vmLink = Files.createSymbolicLink(tmp.resolve("vm-link"), vmDir);

        RootDisk disk = strategy.provision(new RootDiskRequest(VM, link.resolve(image.getFileName()), vmLink));

        assertThat(runner.commandLines()).startsWith("losetup --find", "losetup --read-only /dev/loop0 " + image,
                "losetup --find", "losetup /dev/loop1 " + cow);
        assertThat(disk.handles().baseLoop().backingFile()).isEqualTo(image);
        assertThat(disk.handles().cowLoop().backingFile()).isEqualTo(cow);
        runner.clear();
        strategy.teardown(disk.handles());
        assertThat(devices.isEmpty()).isTrue();
    }

    @Test
    void theDefaultCowHoldsEveryChunkOfTheImagePlusTheSnapshotMetadata() {
        long chunks = IMAGE_BYTES / 4096;
        assertThat(DmSnapshotStrategy.defaultCowBytes(IMAGE_BYTES))
                .as("header chunk + one metadata chunk per 256 data chunks + the data chunks")
                .isEqualTo((1 + chunks / 256 + chunks) * 4096);
        assertThat(DmSnapshotStrategy.defaultCowBytes(4097)).isEqualTo((1 + 1 + 2) * 4096);
    }

    @Test
    void aConfiguredCowSizeIsRoundedUpToWholeChunks() throws IOException {
        strategy.provision(new RootDiskRequest(VM, image, vmDir, (8L << 20) + 1));

        assertThat(Files.size(cow)).isEqualTo((8L << 20) + 4096);
    }

    @Test
    void provisionOverAnExistingCowReusesItAndRebuildsOnlyLoopsAndDm() throws IOException {
        RootDisk first = strategy.provision(request());
        writeMarker(cow);
        strategy.teardown(first.handles());
        runner.clear();

        RootDisk second = strategy.provision(request());

        assertThat(runner.commandLines()).containsExactly(
                "losetup --find",
                "losetup --read-only /dev/loop0 " + image,
                "losetup --find",
                "losetup /dev/loop1 " + cow,
                "dmsetup create banger-" + VM + " --table " + TABLE);
        assertThat(readMarker(cow)).as("the guest's writes survive stop/start").isEqualTo("guest data");
        assertThat(second.handles()).isEqualTo(first.handles());
    }

    // ---- teardown ----

    @Test
    void teardownRemovesTheDmDeviceThenTheCowLoopThenTheBaseLoop() throws IOException {
        RootDisk disk = strategy.provision(request());
        runner.clear();

        strategy.teardown(disk.handles());

        assertThat(runner.commandLines()).containsExactly(
                "dmsetup remove banger-" + VM,
                "losetup --noheadings --output BACK-FILE /dev/loop1",
                "losetup --detach /dev/loop1",
                "losetup --noheadings --output BACK-FILE /dev/loop0",
                "losetup --detach /dev/loop0");
        assertThat(devices.isEmpty()).isTrue();
        assertThat(cow).as("the COW file is the VM's disk; only deleting the VM removes it").exists();
    }

    @Test
    void teardownTwiceFindsEverythingGoneAndSucceeds() {
        RootDisk disk = strategy.provision(request());
        strategy.teardown(disk.handles());
        runner.clear();

        strategy.teardown(disk.handles());

        assertThat(runner.commandLines()).as("nothing is detached twice").containsExactly(
                "dmsetup remove banger-" + VM,
                "losetup --noheadings --output BACK-FILE /dev/loop1",
                "losetup --noheadings --output BACK-FILE /dev/loop0");
        assertThat(devices.isEmpty()).isTrue();
    }

    @Test
    void teardownToleratesResourcesThatVanishedInEveryWayTheToolsReportIt() {
        RootDisk disk = strategy.provision(request());
        runner.clear();
        // dm device removed by hand; the COW loop's node is gone; the base loop detached between query and detach.
        devices.dm.clear();
        runner.when("losetup", "--noheadings", "--output", "BACK-FILE", "/dev/loop1")
                .thenFail(1, "losetup: /dev/loop1: failed to use device: No such device\n");
        runner.when("losetup", "--detach", "/dev/loop0")
                .thenAnswer(c -> {
                    devices.loops.remove("/dev/loop0");
                    return RecordingCommandRunner.failure(1,
                            "losetup: /dev/loop0: detach failed: No such device or address\n");
                });

        strategy.teardown(disk.handles());

        assertThat(runner.commandLines()).containsExactly(
                "dmsetup remove banger-" + VM,
                "losetup --noheadings --output BACK-FILE /dev/loop1",
                "losetup --noheadings --output BACK-FILE /dev/loop0",
                "losetup --detach /dev/loop0");
    }

    @Test
    void teardownOfHalfBuiltHandlesReleasesOnlyWhatTheyName() {
        LoopDevice base = new LoopDevice(devices.attachElsewhere(image.toString()), image);
        RootDiskHandles halfBuilt = RootDiskHandles.none("dm-snapshot").withBaseLoop(base);

        strategy.teardown(halfBuilt);

        assertThat(runner.commandLines()).containsExactly(
                "losetup --noheadings --output BACK-FILE /dev/loop0",
                "losetup --detach /dev/loop0");
        assertThat(devices.isEmpty()).isTrue();
    }

    @Test
    void teardownLeavesALoopDeviceAloneOnceItBacksAnotherFile() {
        RootDisk disk = strategy.provision(request());
        strategy.teardown(disk.handles());
        // After a reboot, /dev/loop0 and /dev/loop1 belong to someone else.
        devices.attachElsewhere("/var/lib/other/disk.img");
        devices.attachElsewhere("/var/lib/other/cow");
        runner.clear();

        strategy.teardown(disk.handles());

        assertThat(runner.commandLines()).noneMatch(line -> line.startsWith("losetup --detach"));
        assertThat(devices.loops).hasSize(2);
    }

    @Test
    void teardownDetachesACowLoopWhoseFileWasAlreadyDeleted() {
        RootDisk disk = strategy.provision(request());
        runner.when("losetup", "--noheadings", "--output", "BACK-FILE", "/dev/loop1")
                .thenReturn(cow + " (deleted)\n");
        runner.clear();

        strategy.teardown(disk.handles());

        assertThat(runner.commandLines()).contains("losetup --detach /dev/loop1");
        assertThat(devices.isEmpty()).isTrue();
    }

    @Test
    void teardownRetriesDmsetupRemoveWhileTheDeviceIsBusy() {
        RootDisk disk = strategy.provision(request());
        runner.when("dmsetup", "remove").times(2).thenFail(1,
                "device-mapper: remove ioctl on banger-" + VM + "  failed: Device or resource busy\nCommand failed.\n");
        runner.clear();

        strategy.teardown(disk.handles());

        assertThat(runner.commandLines()).containsExactly(
                "dmsetup remove banger-" + VM,
                "dmsetup remove banger-" + VM,
                "dmsetup remove banger-" + VM,
                "losetup --noheadings --output BACK-FILE /dev/loop1",
                "losetup --detach /dev/loop1",
                "losetup --noheadings --output BACK-FILE /dev/loop0",
                "losetup --detach /dev/loop0");
        assertThat(devices.isEmpty()).isTrue();
    }

    @Test
    void teardownGivesUpOnAPersistentlyBusyDeviceButStillReleasesTheLoopsAndSaysWhatToDo() {
        RootDisk disk = strategy.provision(request());
        runner.when("dmsetup", "remove").thenFail(1,
                "device-mapper: remove ioctl on banger-" + VM + "  failed: Device or resource busy\nCommand failed.\n");
        runner.clear();

        assertThatThrownBy(() -> strategy.teardown(disk.handles()))
                .isInstanceOf(RootDiskException.class)
                .hasMessageContaining("banger-" + VM)
                .hasMessageContaining("still busy after 3 attempts")
                .hasMessageContaining("dmsetup remove banger-" + VM);
        assertThat(runner.commandLines()).filteredOn(line -> line.startsWith("dmsetup remove")).hasSize(3);
        assertThat(runner.commandLines()).contains("losetup --detach /dev/loop1", "losetup --detach /dev/loop0");
    }

    @Test
    void teardownReportsAnUnexpectedDmsetupErrorWithoutRetryingAndStillDetachesTheLoops() {
        RootDisk disk = strategy.provision(request());
        runner.when("dmsetup", "remove").thenFail(1, "/dev/mapper/control: open failed: Permission denied\n"
                + "Failure to communicate with kernel device-mapper driver.\nCommand failed.\n");
        runner.clear();

        assertThatThrownBy(() -> strategy.teardown(disk.handles()))
                .isInstanceOf(RootDiskException.class)
                .hasMessageContaining("cannot remove device-mapper device banger-" + VM)
                .hasMessageContaining("Command failed.");
        assertThat(runner.commandLines()).filteredOn(line -> line.startsWith("dmsetup remove")).hasSize(1);
        assertThat(devices.loops).isEmpty();
    }

    // ---- a failure at step N undoes N-1..1 ----

    @Test
    void failedBaseLosetupLeavesNothing() {
        runner.when("losetup", "--find").thenFail(1, "losetup: cannot find an unused loop device\n");

        assertThatThrownBy(() -> strategy.provision(request()))
                .isInstanceOf(RootDiskException.class)
                .hasMessageContaining("cannot attach a loop device to " + image)
                .hasMessageContaining("cannot find an unused loop device");

        assertThat(runner.commandLines()).containsExactly("losetup --find");
        assertLeftNothing();
    }

    @Test
    void failedCowFileCreationDetachesTheBaseLoop() throws IOException {
        Path notADirectory = Files.writeString(tmp.resolve("vms/file"), "");

        assertThatThrownBy(() -> strategy.provision(new RootDiskRequest(VM, image, notADirectory)))
                .isInstanceOf(RootDiskException.class)
                .hasMessageContaining("cannot create the copy-on-write file " + notADirectory.resolve("root.cow"));

        assertThat(runner.commandLines()).containsExactly(
                "losetup --find",
                "losetup --read-only /dev/loop0 " + image,
                "losetup --noheadings --output BACK-FILE /dev/loop0",
                "losetup --detach /dev/loop0");
        assertThat(devices.isEmpty()).isTrue();
    }

    @Test
    void failedCowLosetupRemovesTheNewCowFileAndDetachesTheBaseLoop() {
        runner.when("losetup", "/dev/loop1", cow.toString()).thenFail(1,
                "losetup: " + cow + ": failed to set up loop device: No space left on device\n");

        assertThatThrownBy(() -> strategy.provision(request()))
                .isInstanceOf(RootDiskException.class)
                .hasMessageContaining("cannot attach a loop device to " + cow);

        assertThat(runner.commandLines()).containsExactly(
                "losetup --find",
                "losetup --read-only /dev/loop0 " + image,
                "losetup --find",
                "losetup /dev/loop1 " + cow,
                "losetup --noheadings --output BACK-FILE /dev/loop0",
                "losetup --detach /dev/loop0");
        assertLeftNothing();
    }

    @Test
    void failedDmsetupCreateDetachesBothLoopsNewestFirstAndRemovesTheNewCowFile() {
        runner.when("dmsetup", "create").thenFail(1, "device-mapper: reload ioctl on banger-" + VM
                + "  failed: Invalid argument\nCommand failed.\n");

        assertThatThrownBy(() -> strategy.provision(request()))
                .isInstanceOf(RootDiskException.class)
                .hasMessageContaining("cannot create device-mapper snapshot banger-" + VM)
                .hasMessageContaining("modprobe dm_snapshot");

        assertThat(runner.commandLines()).containsExactly(
                "losetup --find",
                "losetup --read-only /dev/loop0 " + image,
                "losetup --find",
                "losetup /dev/loop1 " + cow,
                "dmsetup create banger-" + VM + " --table " + TABLE,
                "losetup --noheadings --output BACK-FILE /dev/loop1",
                "losetup --detach /dev/loop1",
                "losetup --noheadings --output BACK-FILE /dev/loop0",
                "losetup --detach /dev/loop0");
        assertLeftNothing();
    }

    @Test
    void aFailureToRecordTheDmDeviceMeansItIsNeverCreatedAndBothLoopsAreDetached() {
        RuntimeException diskFull = new IllegalStateException("cannot write handles.json");

        assertThatThrownBy(() -> strategy.provision(request(), h -> {
            if (h.dmName() != null) {
                throw diskFull;
            }
        })).isSameAs(diskFull);

        assertThat(runner.commandLines()).noneMatch(line -> line.startsWith("dmsetup"));
        assertThat(runner.commandLines()).endsWith(
                "losetup --noheadings --output BACK-FILE /dev/loop1",
                "losetup --detach /dev/loop1",
                "losetup --noheadings --output BACK-FILE /dev/loop0",
                "losetup --detach /dev/loop0");
        assertLeftNothing();
    }

    @Test
    void aLoopDeviceIsRecordedBeforeItIsAttachedAndAnotherProgramTakingItMeansTheNextOne() {
        List<RootDiskHandles> recorded = new ArrayList<>();
        List<Map<String, String>> attachedWhenRecorded = new ArrayList<>();
        boolean[] raced = {false};

        RootDisk disk = strategy.provision(request(), h -> {
            recorded.add(h);
            attachedWhenRecorded.add(new TreeMap<>(devices.loops));
            if (!raced[0] && h.baseLoop() != null) {
                raced[0] = true;
                devices.attachElsewhere("/var/lib/other/disk.img"); // Takes /dev/loop0 between find and attach.
            }
        });

        assertThat(recorded).extracting(h -> h.baseLoop() == null ? null : h.baseLoop().device())
                .startsWith("/dev/loop0", "/dev/loop1");
        assertThat(attachedWhenRecorded.get(1)).as("nothing of ours was attached when the next free device was named")
                .containsOnly(Map.entry("/dev/loop0", "/var/lib/other/disk.img"));
        assertThat(disk.handles().baseLoop().device()).isEqualTo("/dev/loop1");
        assertThat(disk.handles().cowLoop().device()).isEqualTo("/dev/loop2");
        assertThat(runner.commandLines()).contains("losetup --read-only /dev/loop0 " + image,
                "losetup --read-only /dev/loop1 " + image);
        assertThat(devices.loops).containsEntry("/dev/loop1", image.toString()).containsEntry("/dev/loop2",
                cow.toString());
    }

    // ---- a daemon killed at any point leaves handles naming everything attached ----

    /** What kill -9 of the daemon is to a provision in progress: it stops dead, and no undo runs. */
    private static final class DaemonKilled extends Error {
    }

    @ParameterizedTest(name = "killed {1} host change {0}")
    @CsvSource({"1, before", "1, after", "2, before", "2, after", "3, before", "3, after"})
    void aDaemonKilledAroundAnyAttachLeavesHandlesThatReleaseEverythingAttached(int change, String when) {
        int[] changes = {0};
        runner.otherwise(c -> {
            Map<String, String> loops = new TreeMap<>(devices.loops);
            Map<String, String> dm = new TreeMap<>(devices.dm);
            CommandResult result = devices.apply(c);
            if ((!loops.equals(devices.loops) || !dm.equals(devices.dm)) && ++changes[0] == change) {
                if (when.equals("before")) { // Killed just before this command took effect.
                    devices.loops.clear();
                    devices.loops.putAll(loops);
                    devices.dm.clear();
                    devices.dm.putAll(dm);
                }
                throw new DaemonKilled();
            }
            return result;
        });
        List<RootDiskHandles> recorded = new ArrayList<>();

        assertThatThrownBy(() -> strategy.provision(request(), recorded::add)).isInstanceOf(DaemonKilled.class);

        assertThat(devices.loops.size() + devices.dm.size()).as("what the kill left attached")
                .isEqualTo(when.equals("after") ? change : change - 1);
        RootDiskHandles handlesJson = recorded.isEmpty() ? RootDiskHandles.none(DmSnapshotStrategy.NAME)
                : recorded.get(recorded.size() - 1);
        runner.otherwise(devices);
        strategy.teardown(handlesJson); // What the next daemon's reconcile does with the handles left behind.
        assertThat(devices.isEmpty()).as("the last handles recorded name everything the kill left attached: "
                + handlesJson).isTrue();
    }

    @Test
    void aFailedRestartKeepsTheExistingCowFile() throws IOException {
        strategy.teardown(strategy.provision(request()).handles());
        writeMarker(cow);
        runner.when("dmsetup", "create").thenFail(1, "device-mapper: reload ioctl failed: Invalid argument\n");

        assertThatThrownBy(() -> strategy.provision(request())).isInstanceOf(RootDiskException.class);

        assertThat(devices.isEmpty()).isTrue();
        assertThat(readMarker(cow)).as("a failed start must not destroy the VM's disk").isEqualTo("guest data");
    }

    @Test
    void anUndoThatFailsIsAttachedToTheOriginalError() {
        runner.when("dmsetup", "create").thenFail(1, "device-mapper: reload ioctl failed: Invalid argument\n");
        runner.when("losetup", "--detach", "/dev/loop1").thenFail(1, "losetup: /dev/loop1: detach failed: "
                + "Device or resource busy\n");

        assertThatThrownBy(() -> strategy.provision(request()))
                .hasMessageContaining("cannot create device-mapper snapshot")
                .satisfies(e -> assertThat(e.getSuppressed()).singleElement().extracting(Throwable::getMessage)
                        .asString().contains("undo failed: detach /dev/loop1").contains("Device or resource busy"));
        assertThat(devices.loops).as("the base loop is still detached").containsOnlyKeys("/dev/loop1");
    }

    // ---- applicability ----

    @Test
    void appliesWhereDeviceMapperDmsetupLosetupAndRootAreAllPresent() {
        HostCapabilities full = new HostCapabilities(true, "/dev/mapper/control", true,
                Set.of("dmsetup", "losetup"));

        assertThat(strategy.isApplicable(full, VmmKind.FIRECRACKER).applicable()).isTrue();
        assertThat(strategy.isApplicable(full, VmmKind.QEMU).applicable()).isTrue();
        assertThat(strategy.isApplicable(new HostCapabilities(false, "no /dev/mapper/control, not in /proc/misc",
                true, Set.of("dmsetup", "losetup")), VmmKind.FIRECRACKER).describe())
                .isEqualTo("device-mapper is absent (no /dev/mapper/control, not in /proc/misc) "
                        + "(fix: modprobe dm_snapshot)");
        assertThat(strategy.isApplicable(new HostCapabilities(true, "/proc/misc", true, Set.of("losetup")),
                VmmKind.FIRECRACKER).reason()).isEqualTo("dmsetup not found");
        assertThat(strategy.isApplicable(new HostCapabilities(true, "/proc/misc", true, Set.of("dmsetup")),
                VmmKind.FIRECRACKER).reason()).isEqualTo("losetup not found");
        assertThat(strategy.isApplicable(new HostCapabilities(true, "/proc/misc", false,
                Set.of("dmsetup", "losetup")), VmmKind.FIRECRACKER).reason()).contains("need root");
    }

    private void assertLeftNothing() {
        assertThat(devices.isEmpty()).as("loops and dm devices: " + devices.loops + " " + devices.dm).isTrue();
        assertThat(cow).doesNotExist();
        assertThat(vmDir.resolve(".root.cow.tmp")).doesNotExist();
    }

    private static void writeMarker(Path file) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(8192);
            f.write("guest data".getBytes(StandardCharsets.UTF_8));
        }
    }

    private static String readMarker(Path file) throws IOException {
        byte[] bytes = new byte[10];
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            f.seek(8192);
            f.readFully(bytes);
        }
        return new String(bytes, StandardCharsets.UTF_8);
    }

    static long allocatedBytes(Path file) throws IOException {
        // st_blocks counts 512-byte units whatever the filesystem's block size.
        Process stat = new ProcessBuilder("stat", "-c", "%b", file.toString()).start();
        return Long.parseLong(new String(stat.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip()) * 512;
    }
}
