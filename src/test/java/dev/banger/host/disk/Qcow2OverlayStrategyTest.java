package dev.banger.host.disk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.banger.host.Command;
import dev.banger.host.CommandResult;
import dev.banger.host.ProcessCommandRunner;
import dev.banger.json.Json;
import dev.banger.model.VmmKind;
import dev.banger.vmm.DiskSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The qcow2 overlay strategy with the real qemu-img and qemu-io. */
class Qcow2OverlayStrategyTest {

    @TempDir
    Path tmp;

    private final ProcessCommandRunner runner = new ProcessCommandRunner();
    private final Qcow2OverlayStrategy strategy = new Qcow2OverlayStrategy(runner);

    @Test
    void theOverlayIsAQcow2BackedByTheImageAndWritesThroughItNeverReachTheImage() throws IOException {
        Path image = DiskImages.sparseImage(tmp.resolve("images/base.ext4"), 64L << 20);
        Path vmDir = Files.createDirectories(tmp.resolve("vms/a1"));
        String before = DiskImages.sha256(image);

        RootDisk disk = strategy.provision(new RootDiskRequest("a1", image, vmDir));

        assertThat(disk.attachPath()).isEqualTo(vmDir.resolve("root.qcow2"));
        assertThat(disk.format()).isEqualTo(DiskSpec.Format.QCOW2);
        assertThat(disk.handles().isEmpty()).as("an overlay holds no host resources").isTrue();
        assertThat(disk.toDiskSpec()).isEqualTo(new DiskSpec(disk.attachPath(), DiskSpec.Format.QCOW2, false,
                DiskSpec.Role.ROOT));
        Map<?, ?> info = (Map<?, ?>) Json.parseTree(runner.run("qemu-img", "info", "--output=json",
                disk.attachPath().toString()).stdoutText());
        assertThat(info.get("format")).isEqualTo("qcow2");
        assertThat(info.get("backing-filename")).isEqualTo(image.toString());
        assertThat(info.get("backing-filename-format")).isEqualTo("raw");
        assertThat(info.get("virtual-size")).isEqualTo(64L << 20);

        qemuIo(disk.attachPath(), "write -P 0xab 0 4k");

        assertThat(qemuIo(disk.attachPath(), "read -P 0xab 0 4k").stdoutText())
                .as("the guest reads back what it wrote").doesNotContain("Pattern verification failed");
        assertThat(DiskImages.sha256(image)).as("the base image is never written").isEqualTo(before);
        assertThat(DiskImages.firstBlock(image)).containsOnly((byte) 0x11);
        assertThat(vmDir.resolve(".root.qcow2.tmp")).doesNotExist();
    }

    @Test
    void provisioningAgainReusesTheOverlayWithTheGuestsWrites() throws IOException {
        Path image = DiskImages.sparseImage(tmp.resolve("images/base.ext4"), 64L << 20);
        Path vmDir = Files.createDirectories(tmp.resolve("vms/a1"));
        RootDisk first = strategy.provision(new RootDiskRequest("a1", image, vmDir));
        qemuIo(first.attachPath(), "write -P 0xab 0 4k");

        RootDisk second = strategy.provision(new RootDiskRequest("a1", image, vmDir));
        strategy.teardown(second.handles());

        assertThat(second).isEqualTo(first);
        assertThat(qemuIo(second.attachPath(), "read -P 0xab 0 4k").exitCode())
                .as("a stop/start keeps the guest's writes").isZero();
    }

    @Test
    void creatingAnOverlayCostsTheSameForA64MibAndA4GibImage() throws IOException {
        Path small = DiskImages.sparseImage(tmp.resolve("images/small.ext4"), 64L << 20);
        Path large = DiskImages.sparseImage(tmp.resolve("images/large.ext4"), 4L << 30);
        strategy.provision(new RootDiskRequest("w0", small, Files.createDirectories(tmp.resolve("vms/w0"))));
        long[] smallNanos = new long[3];
        long[] largeNanos = new long[3];

        for (int i = 0; i < 3; i++) {
            String s = "s" + i;
            String l = "l" + i;
            smallNanos[i] = time(() -> strategy.provision(new RootDiskRequest(s, small,
                    Files.createDirectories(tmp.resolve("vms/" + s)))));
            largeNanos[i] = time(() -> strategy.provision(new RootDiskRequest(l, large,
                    Files.createDirectories(tmp.resolve("vms/" + l)))));
        }

        System.out.printf("qcow2 overlay creation, median of 3: 64 MiB base %.1f ms, 4 GiB base %.1f ms%n",
                median(smallNanos) / 1e6, median(largeNanos) / 1e6);
        assertThat(Files.size(tmp.resolve("vms/l0/root.qcow2"))).as("metadata only, no image data")
                .isLessThan(1 << 20);
    }

    @Test
    void aFailedCreateLeavesNoOverlayBehind() throws IOException {
        Path vmDir = Files.createDirectories(tmp.resolve("vms/a1"));
        Path missing = tmp.resolve("images/missing.ext4");

        assertThatThrownBy(() -> strategy.provision(new RootDiskRequest("a1", missing, vmDir)))
                .isInstanceOf(RootDiskException.class)
                .hasMessageContaining("cannot create the qcow2 overlay " + vmDir.resolve("root.qcow2"))
                .hasMessageContaining(missing.toString());

        try (var files = Files.list(vmDir)) {
            assertThat(files).isEmpty();
        }
    }

    @Test
    void appliesToQemuWithQemuImgOnly() {
        HostCapabilities withQemuImg = new HostCapabilities(false, "absent", false, Set.of("qemu-img"));

        assertThat(strategy.isApplicable(withQemuImg, VmmKind.QEMU).applicable()).isTrue();
        assertThat(strategy.isApplicable(withQemuImg, VmmKind.FIRECRACKER).reason())
                .isEqualTo("firecracker attaches only raw disks, and a qcow2 overlay is read by QEMU alone");
        assertThat(strategy.isApplicable(new HostCapabilities(false, "absent", false, Set.of()), VmmKind.QEMU)
                .describe()).isEqualTo("qemu-img not found (fix: apt-get install qemu-utils)");
    }

    private CommandResult qemuIo(Path overlay, String op) {
        return runner.run(Command.of("qemu-io", "-f", "qcow2", "-c", op, overlay.toString()).allowingFailure());
    }

    private interface Action {
        void run() throws IOException;
    }

    private static long median(long[] values) {
        long[] sorted = values.clone();
        java.util.Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    private static long time(Action action) throws IOException {
        long t0 = System.nanoTime();
        action.run();
        return System.nanoTime() - t0;
    }
}
