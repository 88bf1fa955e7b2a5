package dev.banger.vmm.qemu;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AcceleratorChooserTest {

    @TempDir
    Path dir;

    @Test
    void pvmHostUsesTcgEvenThoughDevKvmOpens() throws IOException {
        Path kvm = Files.createFile(dir.resolve("kvm"));
        Path pvm = Files.createDirectory(dir.resolve("kvm_pvm"));
        AcceleratorChoice choice = new AcceleratorChooser(kvm, pvm, Optional.empty()).choose();
        assertThat(choice.accelerator()).isEqualTo(Accelerator.TCG);
        assertThat(choice.reason()).contains("kvm_pvm");
    }

    @Test
    void usableKvmWithoutPvmUsesKvm() throws IOException {
        Path kvm = Files.createFile(dir.resolve("kvm"));
        AcceleratorChoice choice = new AcceleratorChooser(kvm, dir.resolve("absent"), Optional.empty()).choose();
        assertThat(choice.accelerator()).isEqualTo(Accelerator.KVM);
    }

    @Test
    void noKvmUsesTcg() {
        AcceleratorChoice choice = new AcceleratorChooser(dir.resolve("none"), dir.resolve("absent"),
                Optional.empty()).choose();
        assertThat(choice.accelerator()).isEqualTo(Accelerator.TCG);
        assertThat(choice.reason()).startsWith("no ");
    }

    @Test
    void overrideWins() throws IOException {
        Path pvm = Files.createDirectory(dir.resolve("kvm_pvm"));
        AcceleratorChoice choice = new AcceleratorChooser(dir.resolve("none"), pvm, Optional.of(Accelerator.KVM))
                .choose();
        assertThat(choice.accelerator()).isEqualTo(Accelerator.KVM);
    }

    @Test
    void thisHostIsPvmSoTcgIsChosen() {
        if (Files.exists(Path.of("/sys/module/kvm_pvm"))) {
            assertThat(AcceleratorChooser.forHost(Optional.empty()).choose().accelerator())
                    .isEqualTo(Accelerator.TCG);
        }
    }

    @Test
    void tscKhzIsWholeMhzTimesThousand() throws IOException {
        Path cpuinfo = Files.writeString(dir.resolve("cpuinfo"),
                "processor\t: 0\nmodel name\t: X\ncpu MHz\t\t: 2596.142\ncache size\t: 1 KB\n");
        assertThat(new HostCpu(cpuinfo).tscKhz()).hasValue(2_596_000L);
        assertThat(new HostCpu(dir.resolve("missing")).tscKhz()).isEmpty();
    }
}
