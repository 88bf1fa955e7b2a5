package dev.banger.vm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.banger.config.BangerPaths;
import dev.banger.model.VmmKind;
import dev.banger.template.Template;
import dev.banger.template.TemplateKey;
import dev.banger.testkit.RecordingCommandRunner;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VmDisksTest {

    @TempDir
    Path tmp;

    @Test
    void aCloneHasARootDiskOfItsTemplatesKindWhateverTheHostWouldGiveABootedVm() {
        RecordingCommandRunner runner = new RecordingCommandRunner();
        VmDisks disks = new VmDisks(runner, new HandleStore(new BangerPaths(tmp.resolve("state"),
                tmp.resolve("config"), tmp.resolve("run"))));
        Path vmDir = tmp.resolve("state/vms/0123456789ab");

        assertThat(disks.rootDiskFile(VmmKind.FIRECRACKER, vmDir, Optional.of(template("firecracker", "root.img"))))
                .as("a raw copy, even on a host where device-mapper would give root.cow")
                .isEqualTo(vmDir.resolve("root.img"));
        assertThat(disks.rootDiskFile(VmmKind.QEMU, vmDir, Optional.of(template("qemu", "root.qcow2"))))
                .isEqualTo(vmDir.resolve("root.qcow2"));
        assertThat(runner.commands()).as("the template decides; the host is not asked").isEmpty();
    }

    private Template template(String vmm, String rootDisk) {
        return new Template(new TemplateKey(vmm, "sha256:v ", "img", "sha256:r", "k", "sha256:k", "sha256:i", 1, 256,
                64), rootDisk, "console=ttyS0", "2026-12-02T09:00:00Z", 1000, 50, tmp.resolve("templates/x"));
    }
}
