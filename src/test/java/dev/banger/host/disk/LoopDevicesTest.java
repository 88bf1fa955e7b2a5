package dev.banger.host.disk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.banger.host.CommandRunner;
import dev.banger.host.ProcessCommandRunner;
import dev.banger.testkit.RecordingCommandRunner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real loop devices (they work here, unlike device-mapper): checks that the messages {@link LoopDevices} parses
 * are the ones this losetup prints, and that dm-snapshot's undo releases real loops when dmsetup fails.
 */
class LoopDevicesTest {

    @TempDir
    Path tmp;

    private final CommandRunner real = new ProcessCommandRunner();
    private final LoopDevices loops = new LoopDevices(real);
    private final List<LoopDevice> attached = new ArrayList<>();

    @BeforeEach
    void requireLoopDevices() {
        HostCapabilities host = HostCapabilities.probe(real);
        boolean usable = host.root() && host.has("losetup") && Files.exists(Path.of("/dev/loop-control"));
        Assumptions.assumeTrue(usable, "loop devices need root, losetup and /dev/loop-control; this host: " + host);
    }

    @AfterEach
    void detachLeftovers() {
        attached.forEach(loops::detach);
    }

    @Test
    void attachQueryAndDetachARealLoopDeviceThenFindItGone() throws IOException {
        Path file = DiskImages.sparseImage(tmp.resolve("a.img"), 8L << 20);

        LoopDevice loop = track(loops.attach(file, true));

        assertThat(loop.device()).startsWith("/dev/loop");
        assertThat(real.run("losetup", "--noheadings", "--output", "BACK-FILE,RO", loop.device()).stdoutText())
                .contains(file.toRealPath().toString()).contains("1");
        assertThat(loops.detach(loop)).isEqualTo(LoopDevices.Released.DETACHED);
        assertThat(loops.detach(loop)).as("a second detach finds it free").isEqualTo(LoopDevices.Released.ALREADY_GONE);
        assertThat(loops.detach(new LoopDevice("/dev/loop99999", file))).as("no such device node")
                .isEqualTo(LoopDevices.Released.ALREADY_GONE);
    }

    @Test
    void aDeviceTakenBetweenFindAndAttachIsReplacedByTheNextFreeOneWithEachRecordedFirst() throws IOException {
        Path mine = DiskImages.sparseImage(tmp.resolve("mine.img"), 8L << 20);
        Path theirs = DiskImages.sparseImage(tmp.resolve("theirs.img"), 8L << 20).toRealPath();
        List<String> reserved = new ArrayList<>();

        LoopDevice loop = track(loops.attach(mine, false, r -> {
            assertThat(backingFile(r.device())).as("recorded before it is attached").isNotEqualTo(mine.toString());
            reserved.add(r.device());
            if (reserved.size() == 1) { // Another program takes the device this attach was about to use.
                real.run("losetup", r.device(), theirs.toString());
                track(new LoopDevice(r.device(), theirs));
            }
        }));

        assertThat(reserved).hasSize(2).doesNotHaveDuplicates();
        assertThat(loop.device()).isEqualTo(reserved.get(1));
        assertThat(backingFile(loop.device())).isEqualTo(mine.toRealPath().toString());
        assertThat(backingFile(reserved.get(0))).isEqualTo(theirs.toRealPath().toString());
    }

    private String backingFile(String device) {
        return real.run(dev.banger.host.Command.of("losetup", "--noheadings", "--output", "BACK-FILE", device)
                .allowingFailure()).stdoutText().strip();
    }

    @Test
    void aLoopNowBackingAnotherFileIsLeftAlone() throws IOException {
        Path mine = DiskImages.sparseImage(tmp.resolve("mine.img"), 8L << 20);
        Path theirs = DiskImages.sparseImage(tmp.resolve("theirs.img"), 8L << 20);
        LoopDevice other = track(loops.attach(theirs, false));

        assertThat(loops.detach(new LoopDevice(other.device(), mine.toRealPath())))
                .isEqualTo(LoopDevices.Released.NOT_OURS);
        assertThat(real.run("losetup", "--noheadings", "--output", "BACK-FILE", other.device()).stdoutText().strip())
                .isEqualTo(theirs.toRealPath().toString());
    }

    @Test
    void aLoopWhoseFileWasDeletedIsStillRecognisedAndDetached() throws IOException {
        Path file = DiskImages.sparseImage(tmp.resolve("gone.img"), 8L << 20);
        LoopDevice loop = track(loops.attach(file, false));
        Files.delete(file);

        assertThat(loops.detach(loop)).isEqualTo(LoopDevices.Released.DETACHED);
    }

    @Test
    void dmSnapshotUndoDetachesRealLoopsWhenDmsetupFails() throws IOException {
        Path image = DiskImages.sparseImage(tmp.resolve("base.ext4"), 16L << 20);
        Path vmDir = Files.createDirectories(tmp.resolve("vm"));
        RecordingCommandRunner runner = new RecordingCommandRunner().otherwise(real::run);
        runner.when("dmsetup").thenFail(1, "/dev/mapper/control: open failed: No such device\nCommand failed.\n");
        DmSnapshotStrategy strategy = new DmSnapshotStrategy(runner, 1, Duration.ZERO);

        assertThatThrownBy(() -> strategy.provision(new RootDiskRequest("real-undo", image, vmDir), h -> {
            if (h.cowLoop() != null) {
                attached.add(h.baseLoop());
                attached.add(h.cowLoop());
            }
        })).isInstanceOf(RootDiskException.class).hasMessageContaining("cannot create device-mapper snapshot");

        assertThat(runner.commandLines()).filteredOn(line -> line.startsWith("losetup --detach")).hasSize(2);
        assertThat(real.run("losetup", "--associated", image.toRealPath().toString()).stdoutText()).isBlank();
        assertThat(real.run("losetup", "--associated", vmDir.resolve("root.cow").toString()).stdoutText()).isBlank();
        assertThat(vmDir.resolve("root.cow")).doesNotExist();
    }

    private LoopDevice track(LoopDevice loop) {
        attached.add(loop);
        return loop;
    }
}
