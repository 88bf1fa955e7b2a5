package dev.banger.host.disk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.banger.model.VmmKind;
import dev.banger.testkit.RecordingCommandRunner;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RootDiskChooserTest {

    private static final Set<String> ALL_PROGRAMS = Set.copyOf(HostCapabilities.PROGRAMS);

    private final RecordingCommandRunner runner = new RecordingCommandRunner();
    private final RootDiskChooser chooser = RootDiskChooser.standard(runner);

    @Test
    void strategiesAreTriedByDescendingPriorityWhateverTheirListOrder() {
        RootDiskChooser shuffled = new RootDiskChooser(List.of(new ReflinkCopyStrategy(runner),
                new Qcow2OverlayStrategy(runner), new DmSnapshotStrategy(runner)));

        assertThat(shuffled.strategies()).extracting(RootDiskStrategy::name)
                .containsExactly("qcow2-overlay", "dm-snapshot", "reflink-or-copy");
    }

    @Test
    void qemuGetsAQcow2OverlayEvenWhereDeviceMapperExists() {
        assertThat(chooser.choose(host(true, true, ALL_PROGRAMS), VmmKind.QEMU).name()).isEqualTo("qcow2-overlay");
    }

    @Test
    void firecrackerGetsADeviceMapperSnapshotWhereDeviceMapperExists() {
        assertThat(chooser.choose(host(true, true, ALL_PROGRAMS), VmmKind.FIRECRACKER).name())
                .isEqualTo("dm-snapshot");
    }

    @Test
    void qemuWithoutQemuImgFallsBackToDeviceMapper() {
        assertThat(chooser.choose(host(true, true, Set.of("dmsetup", "losetup", "cp")), VmmKind.QEMU).name())
                .isEqualTo("dm-snapshot");
    }

    @Test
    void firecrackerWithoutDeviceMapperFallsBackToACopy() {
        assertThat(chooser.choose(host(false, true, ALL_PROGRAMS), VmmKind.FIRECRACKER).name())
                .isEqualTo("reflink-or-copy");
    }

    @Test
    void whenNothingAppliesOneMessageListsEveryStrategyWithWhyAndWhatToDo() {
        HostCapabilities bare = host(false, false, Set.of());

        assertThatThrownBy(() -> chooser.choose(bare, VmmKind.FIRECRACKER))
                .isInstanceOf(NoRootDiskStrategyException.class)
                .hasMessage("cannot make a root disk for a firecracker VM on this host: no strategy applies (tried "
                        + "qcow2-overlay: firecracker attaches only raw disks, and a qcow2 overlay is read by QEMU "
                        + "alone; dm-snapshot: device-mapper is absent (no /dev/mapper/control, not in /proc/misc) "
                        + "(fix: modprobe dm_snapshot); reflink-or-copy: cp not found (fix: apt-get install "
                        + "coreutils)); see: banger doctor")
                .satisfies(e -> assertThat(((NoRootDiskStrategyException) e).tried()).containsOnlyKeys(
                        "qcow2-overlay", "dm-snapshot", "reflink-or-copy"));
        assertThat(runner.commands()).as("choosing runs nothing").isEmpty();
    }

    @Test
    void aTemplatesDiskIsAFileTheVmmOpensItselfEvenWhereDeviceMapperExists() {
        HostCapabilities everything = host(true, true, ALL_PROGRAMS);

        assertThat(chooser.forTemplate(everything, VmmKind.QEMU).name()).isEqualTo("qcow2-overlay");
        assertThat(chooser.forTemplate(everything, VmmKind.FIRECRACKER).name()).as("raw, never a dm COW file")
                .isEqualTo("reflink-or-copy");
        assertThat(chooser.forTemplate(host(true, true, Set.of("dmsetup", "losetup", "cp")), VmmKind.QEMU).name())
                .as("QEMU without qemu-img").isEqualTo("reflink-or-copy");
    }

    @Test
    void noTemplateDiskWhereNoFileStrategyAppliesSaysWhyForEach() {
        assertThatThrownBy(() -> chooser.forTemplate(host(true, true, Set.of("dmsetup", "losetup")),
                VmmKind.FIRECRACKER))
                .isInstanceOf(NoRootDiskStrategyException.class)
                .hasMessageContaining("dm-snapshot: a template's disk must be a file the VMM opens itself, and "
                        + "dm-snapshot attaches a device built over its file")
                .hasMessageContaining("reflink-or-copy: cp not found");
    }

    @Test
    void anExistingDiskFileNamesTheStrategyThatMadeIt() {
        Path vmDir = Path.of("/var/lib/banger/vms/0123456789ab");

        assertThat(chooser.forDiskFile(vmDir.resolve("root.qcow2")).name()).isEqualTo("qcow2-overlay");
        assertThat(chooser.forDiskFile(vmDir.resolve("root.cow")).name()).isEqualTo("dm-snapshot");
        assertThat(chooser.forDiskFile(vmDir.resolve("root.img")).name()).isEqualTo("reflink-or-copy");
        assertThatThrownBy(() -> chooser.forDiskFile(vmDir.resolve("root.vmdk")))
                .isInstanceOf(RootDiskException.class).hasMessageContaining("root.vmdk");
    }

    @Test
    void teardownGoesToTheStrategyNamedInTheHandles() {
        chooser.teardown(RootDiskHandles.none("qcow2-overlay"));
        chooser.teardown(new RootDiskHandles("dm-snapshot", null, null, "banger-0123456789ab", null));

        assertThat(runner.commandLines()).containsExactly("dmsetup remove banger-0123456789ab");
        assertThatThrownBy(() -> chooser.teardown(RootDiskHandles.none("zfs-clone")))
                .isInstanceOf(RootDiskException.class).hasMessageContaining("unknown root-disk strategy 'zfs-clone'");
    }

    private static HostCapabilities host(boolean dm, boolean root, Set<String> programs) {
        return new HostCapabilities(dm, dm ? "/dev/mapper/control" : "no /dev/mapper/control, not in /proc/misc",
                root, programs);
    }
}
