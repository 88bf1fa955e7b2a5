package dev.banger.vmm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.banger.host.Executables;
import dev.banger.model.KernelFormat;
import dev.banger.model.VmmKind;
import dev.banger.vmm.VmmChooser.Choice;
import dev.banger.vmm.VmmChooser.HostProfile;
import dev.banger.vmm.VmmChooser.Kvm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VmmChooserTest {

    static final Optional<Path> INSTALLED = Optional.of(Path.of("/usr/local/bin/firecracker"));

    @TempDir
    Path dir;

    private static Choice auto(Kvm kvm, Optional<Path> firecracker, KernelFormat kernel) {
        return new VmmChooser(new HostProfile(kvm, firecracker)).choose(null, Optional.empty(), () -> kernel);
    }

    @Test
    void kvmHostWithFirecrackerAndAnElfKernel_getsFirecracker() {
        Choice choice = auto(Kvm.USABLE, INSTALLED, KernelFormat.ELF);

        assertThat(choice.kind()).isEqualTo(VmmKind.FIRECRACKER);
        assertThat(choice.reason()).isEqualTo("KVM is usable, firecracker is /usr/local/bin/firecracker and the "
                + "kernel is an ELF vmlinux: Firecracker");
    }

    @Test
    void kvmHostWithABzImageKernel_getsQemuWithKvm() {
        Choice choice = auto(Kvm.USABLE, INSTALLED, KernelFormat.BZIMAGE);

        assertThat(choice.kind()).isEqualTo(VmmKind.QEMU);
        assertThat(choice.reason()).contains("the kernel is a bzImage, which Firecracker cannot boot")
                .endsWith("QEMU with KVM");
    }

    @Test
    void kvmHostWithoutFirecracker_getsQemuWithKvm() {
        Choice choice = auto(Kvm.USABLE, Optional.empty(), KernelFormat.ELF);

        assertThat(choice.kind()).isEqualTo(VmmKind.QEMU);
        assertThat(choice.reason()).contains("firecracker is not installed").endsWith("QEMU with KVM");
    }

    @Test
    void hostsWithoutUsableKvm_getQemuWithTcg_evenWithFirecrackerAndAnElfKernel() {
        for (Kvm kvm : new Kvm[] {Kvm.PVM_ONLY, Kvm.ABSENT, Kvm.NO_ACCESS}) {
            Choice choice = auto(kvm, INSTALLED, KernelFormat.ELF);
            assertThat(choice.kind()).as(kvm.name()).isEqualTo(VmmKind.QEMU);
            assertThat(choice.reason()).as(kvm.name()).endsWith("QEMU with TCG emulation");
        }
        assertThat(auto(Kvm.PVM_ONLY, INSTALLED, KernelFormat.ELF).reason())
                .contains("kvm_pvm, which boots only PVM guest kernels");
    }

    @Test
    void theKernelIsAskedForOnlyWhenItDecides() {
        AtomicInteger asked = new AtomicInteger();
        Supplier<KernelFormat> kernel = () -> {
            asked.incrementAndGet();
            return KernelFormat.ELF;
        };

        new VmmChooser(new HostProfile(Kvm.PVM_ONLY, INSTALLED)).choose(null, Optional.empty(), kernel);
        new VmmChooser(new HostProfile(Kvm.USABLE, Optional.empty())).choose(null, Optional.empty(), kernel);
        new VmmChooser(new HostProfile(Kvm.USABLE, INSTALLED)).choose("qemu", Optional.empty(), kernel);
        assertThat(asked).as("resolving the kernel may pull one: not for nothing").hasValue(0);

        new VmmChooser(new HostProfile(Kvm.USABLE, INSTALLED)).choose(null, Optional.empty(), kernel);
        assertThat(asked).hasValue(1);
    }

    @Test
    void anUnknownKernel_saysWhatEachFormatGets() {
        Choice choice = auto(Kvm.USABLE, INSTALLED, null);

        assertThat(choice.reason()).contains("Firecracker for a kernel that is an ELF vmlinux")
                .contains("QEMU with KVM for a bzImage");
    }

    @Test
    void theRequestWins_thenTheConfig_overTheHost() {
        VmmChooser kvmHost = new VmmChooser(new HostProfile(Kvm.USABLE, INSTALLED));
        VmmChooser tcgHost = new VmmChooser(new HostProfile(Kvm.ABSENT, Optional.empty()));

        assertThat(kvmHost.choose("qemu", Optional.of(VmmKind.FIRECRACKER), () -> KernelFormat.ELF))
                .isEqualTo(new Choice(VmmKind.QEMU, "asked for with --vmm: QEMU"));
        assertThat(tcgHost.choose(null, Optional.of(VmmKind.FIRECRACKER), () -> KernelFormat.BZIMAGE))
                .isEqualTo(new Choice(VmmKind.FIRECRACKER,
                        "defaultVmm is \"firecracker\" in the daemon's config.json: Firecracker"));
        assertThatThrownBy(() -> kvmHost.choose("kvm", Optional.empty(), () -> KernelFormat.ELF))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("unknown VMM 'kvm': use qemu or firecracker");
    }

    @Test
    void kvmUse_andTheChoice_sayTheSameAboutKvm() {
        for (Kvm kvm : Kvm.values()) {
            VmmChooser chooser = new VmmChooser(new HostProfile(kvm, INSTALLED));
            assertThat(chooser.kvmUse()).as(kvm.name()).startsWith(kvm.fact() + ":");
            assertThat(chooser.choose(null, Optional.empty(), () -> KernelFormat.ELF).reason()).as(kvm.name())
                    .startsWith(kvm.fact());
            assertThat(chooser.kvmUse()).as(kvm.name()).contains(kvm.runsOrdinaryGuests() ? "QEMU with KVM"
                    : "QEMU with TCG emulation");
        }
    }

    @Test
    void kvmStates_fromTheHostsFiles() {
        assertThat(Kvm.of(true, true, true)).as("kvm_pvm wins over a usable /dev/kvm").isEqualTo(Kvm.PVM_ONLY);
        assertThat(Kvm.of(false, false, false)).isEqualTo(Kvm.ABSENT);
        assertThat(Kvm.of(false, true, false)).isEqualTo(Kvm.NO_ACCESS);
        assertThat(Kvm.of(false, true, true)).isEqualTo(Kvm.USABLE);
    }

    @Test
    void probe_readsTheDeviceThePvmModuleAndThePath() throws Exception {
        Path devKvm = Files.createFile(dir.resolve("kvm"));
        Path pvm = dir.resolve("kvm_pvm");
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Path firecracker = Files.createFile(bin.resolve("firecracker"));
        Files.setPosixFilePermissions(firecracker, PosixFilePermissions.fromString("rwxr-xr-x"));

        assertThat(HostProfile.probe(devKvm, pvm, new Executables(bin.toString())))
                .isEqualTo(new HostProfile(Kvm.USABLE, Optional.of(firecracker)));
        Files.createDirectory(pvm);
        assertThat(HostProfile.probe(devKvm, pvm, new Executables(dir.resolve("empty").toString())))
                .isEqualTo(new HostProfile(Kvm.PVM_ONLY, Optional.empty()));
        assertThat(HostProfile.probe(dir.resolve("absent"), dir.resolve("absent-module"),
                new Executables(bin.toString())).kvm()).isEqualTo(Kvm.ABSENT);
    }
}
