package dev.banger.host.disk;

import static org.assertj.core.api.Assertions.assertThat;

import dev.banger.host.Command;
import dev.banger.host.ProcessCommandRunner;
import dev.banger.model.VmmKind;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * dm-snapshot for real: only where the host has device-mapper, dmsetup, losetup and root (not this development
 * machine, which has no device-mapper; {@link DmSnapshotStrategyTest} pins the command sequences there).
 */
class DmSnapshotStrategyRealTest {

    @TempDir
    Path tmp;

    private final ProcessCommandRunner runner = new ProcessCommandRunner();
    private final DmSnapshotStrategy strategy = new DmSnapshotStrategy(runner);
    private final String vmId = "test-" + HexFormat.of().formatHex(new SecureRandom().generateSeed(4));
    private RootDiskHandles held;

    @BeforeEach
    void requireDeviceMapper() {
        HostCapabilities host = HostCapabilities.probe(runner);
        Applicability applicability = strategy.isApplicable(host, VmmKind.FIRECRACKER);
        if (!applicability.applicable()) {
            System.out.println("SKIPPED DmSnapshotStrategyRealTest: " + applicability.describe());
        }
        Assumptions.assumeTrue(applicability.applicable(), () -> "dm-snapshot cannot run on this host: "
                + applicability.describe() + "; its command sequences are covered by DmSnapshotStrategyTest");
    }

    @AfterEach
    void releaseWhatATestLeft() {
        if (held != null) {
            strategy.teardown(held);
        }
    }

    @Test
    void theSnapshotTakesTheGuestsWritesKeepsThemAcrossTeardownAndNeverTouchesTheImage() throws IOException {
        Path image = DiskImages.sparseImage(tmp.resolve("base.ext4"), 64L << 20);
        Path vmDir = Files.createDirectories(tmp.resolve(vmId));
        String before = DiskImages.sha256(image);

        RootDisk disk = strategy.provision(new RootDiskRequest(vmId, image, vmDir), h -> held = h);
        assertThat(disk.attachPath()).isEqualTo(Path.of("/dev/mapper/banger-" + vmId));
        assertThat(readFirstBlock(disk.attachPath())).as("the snapshot starts as the image").containsOnly(0x11);
        writeFirstBlock(disk.attachPath(), (byte) 0xab);
        strategy.teardown(disk.handles());
        held = null;

        assertThat(DiskImages.sha256(image)).as("the image is never written").isEqualTo(before);
        assertThat(runner.run("losetup", "--associated", image.toString()).stdoutText()).isBlank();
        assertThat(runner.run(Command.of("dmsetup", "info", "banger-" + vmId).allowingFailure().withTimeout(
                java.time.Duration.ofSeconds(10))).succeeded()).as("the dm device is gone").isFalse();

        RootDisk again = strategy.provision(new RootDiskRequest(vmId, image, vmDir), h -> held = h);
        assertThat(readFirstBlock(again.attachPath())).as("the COW file kept the write").containsOnly(0xab);
        strategy.teardown(again.handles());
        strategy.teardown(again.handles());
        held = null;
    }

    private static byte[] readFirstBlock(Path device) throws IOException {
        ByteBuffer block = ByteBuffer.allocate(4096);
        try (FileChannel channel = FileChannel.open(device, StandardOpenOption.READ)) {
            while (block.hasRemaining() && channel.read(block) >= 0) {
                // fill the block
            }
        }
        return block.array();
    }

    private static void writeFirstBlock(Path device, byte value) throws IOException {
        byte[] block = new byte[4096];
        Arrays.fill(block, value);
        try (FileChannel channel = FileChannel.open(device, StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.wrap(block));
            channel.force(true);
        }
    }
}
