package dev.banger.host.disk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.banger.host.ProcessCommandRunner;
import dev.banger.model.VmmKind;
import dev.banger.vmm.DiskSpec;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The reflink-or-copy strategy with the real cp. */
class ReflinkCopyStrategyTest {

    @TempDir
    Path tmp;

    private final ReflinkCopyStrategy strategy = new ReflinkCopyStrategy(new ProcessCommandRunner());

    @Test
    void theCopyIsARawSparseDuplicateAndWritesToItNeverReachTheImage() throws IOException {
        Path image = DiskImages.sparseImage(tmp.resolve("images/base.ext4"), 64L << 20);
        Path vmDir = Files.createDirectories(tmp.resolve("vms/a1"));
        String before = DiskImages.sha256(image);

        RootDisk disk = strategy.provision(new RootDiskRequest("a1", image, vmDir));

        assertThat(disk.attachPath()).isEqualTo(vmDir.resolve("root.img"));
        assertThat(disk.format()).isEqualTo(DiskSpec.Format.RAW);
        assertThat(disk.handles().isEmpty()).isTrue();
        assertThat(DiskImages.sha256(disk.attachPath())).isEqualTo(before);
        assertThat(DmSnapshotStrategyTest.allocatedBytes(disk.attachPath())).as("holes stay holes")
                .isLessThan(1 << 20);

        overwriteFirstBlock(disk.attachPath());

        assertThat(DiskImages.firstBlock(disk.attachPath())).containsOnly((byte) 0xab);
        assertThat(DiskImages.sha256(image)).isEqualTo(before);
        assertThat(vmDir.resolve(".root.img.tmp")).doesNotExist();
    }

    @Test
    void provisioningAgainKeepsTheCopyInsteadOfCopyingAgain() throws IOException {
        Path image = DiskImages.sparseImage(tmp.resolve("images/base.ext4"), 8L << 20);
        Path vmDir = Files.createDirectories(tmp.resolve("vms/a1"));
        RootDisk first = strategy.provision(new RootDiskRequest("a1", image, vmDir));
        overwriteFirstBlock(first.attachPath());

        RootDisk second = strategy.provision(new RootDiskRequest("a1", image, vmDir));

        assertThat(second).isEqualTo(first);
        assertThat(DiskImages.firstBlock(second.attachPath())).containsOnly((byte) 0xab);
    }

    @Test
    void aFailedCopyLeavesNothingBehind() throws IOException {
        Path vmDir = Files.createDirectories(tmp.resolve("vms/a1"));

        assertThatThrownBy(() -> strategy.provision(new RootDiskRequest("a1", tmp.resolve("nope.ext4"), vmDir)))
                .isInstanceOf(RootDiskException.class)
                .hasMessageContaining("cannot copy the image to " + vmDir.resolve("root.img"))
                .hasMessageContaining("nope.ext4");

        try (var files = Files.list(vmDir)) {
            assertThat(files).isEmpty();
        }
    }

    @Test
    void appliesWhereverCpExists() {
        assertThat(strategy.isApplicable(new HostCapabilities(false, "absent", false, Set.of("cp")),
                VmmKind.FIRECRACKER).applicable()).isTrue();
        assertThat(strategy.isApplicable(new HostCapabilities(false, "absent", false, Set.of()), VmmKind.QEMU)
                .describe()).isEqualTo("cp not found (fix: apt-get install coreutils)");
    }

    private static void overwriteFirstBlock(Path file) throws IOException {
        byte[] block = new byte[4096];
        java.util.Arrays.fill(block, (byte) 0xab);
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.write(block);
        }
    }
}
