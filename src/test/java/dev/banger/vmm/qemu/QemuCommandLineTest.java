package dev.banger.vmm.qemu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.banger.vmm.DiskSpec;
import dev.banger.vmm.NetworkSpec;
import dev.banger.vmm.VmSpec;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class QemuCommandLineTest {

    private static final Path VM = Path.of("/var/lib/banger/vms/abc");

    private static VmSpec spec(Optional<NetworkSpec> net, List<DiskSpec> disks) {
        return new VmSpec("abc", "box", 2, 512, VM.resolve("vmlinuz"), VM.resolve("initrd.img"),
                "console=ttyS0 quiet", disks, VM.resolve("agent.sock"), VM.resolve("qmp.sock"),
                VM.resolve("console.log"), VM, 3, net);
    }

    private static List<DiskSpec> disks() {
        return List.of(new DiskSpec(VM.resolve("root.qcow2"), DiskSpec.Format.QCOW2, false, DiskSpec.Role.ROOT),
                new DiskSpec(VM.resolve("work.img"), DiskSpec.Format.RAW, true, DiskSpec.Role.WORK));
    }

    /** The value following {@code option} each time it occurs. */
    private static List<String> values(List<String> argv, String option) {
        List<String> out = new java.util.ArrayList<>();
        for (int i = 0; i < argv.size() - 1; i++) {
            if (argv.get(i).equals(option)) {
                out.add(argv.get(i + 1));
            }
        }
        return out;
    }

    @Test
    void tcgMicrovmWithoutDefaultsDetachedWithPidFile() {
        List<String> argv = QemuCommandLine.build(spec(Optional.empty(), disks()), Accelerator.TCG,
                OptionalLong.of(2_596_000));

        assertThat(argv.get(0)).isEqualTo("qemu-system-x86_64");
        assertThat(values(argv, "-accel")).containsExactly("tcg");
        assertThat(values(argv, "-M")).containsExactly("microvm");
        assertThat(values(argv, "-m")).containsExactly("512");
        assertThat(values(argv, "-smp")).containsExactly("2");
        assertThat(argv).contains("-nodefaults", "-no-user-config", "-no-reboot", "-daemonize")
                .doesNotContain("-nographic", "-cpu", "-enable-kvm");
        assertThat(values(argv, "-display")).containsExactly("none");
        assertThat(values(argv, "-pidfile")).containsExactly(VM + "/qemu.pid");
        assertThat(values(argv, "-D")).containsExactly(VM + "/qemu.log");
        assertThat(values(argv, "-kernel")).containsExactly(VM + "/vmlinuz");
        assertThat(values(argv, "-initrd")).containsExactly(VM + "/initrd.img");
        assertThat(values(argv, "-append")).containsExactly("console=ttyS0 quiet tsc_early_khz=2596000 tsc=reliable");
        assertThat(values(argv, "-serial")).containsExactly("chardev:console");
    }

    @Test
    void disksAreVirtioBlkDevicesInOrderWithFormatAndReadOnly() {
        List<String> argv = QemuCommandLine.build(spec(Optional.empty(), disks()), Accelerator.TCG,
                OptionalLong.empty());

        assertThat(values(argv, "-drive")).containsExactly(
                "id=disk0,file=" + VM + "/root.qcow2,format=qcow2,if=none",
                "id=disk1,file=" + VM + "/work.img,format=raw,if=none,readonly=on");
        assertThat(values(argv, "-device")).containsSubsequence("virtio-blk-device,drive=disk0",
                "virtio-blk-device,drive=disk1");
    }

    @Test
    void theWritableWorkDiskBypassesTheHostCacheWhereItsFileTakesDirectIo() {
        List<DiskSpec> disks = List.of(
                new DiskSpec(VM.resolve("root.qcow2"), DiskSpec.Format.QCOW2, false, DiskSpec.Role.ROOT),
                new DiskSpec(VM.resolve("work.ext4"), DiskSpec.Format.RAW, false, DiskSpec.Role.WORK));
        List<Path> asked = new java.util.ArrayList<>();

        List<String> direct = QemuCommandLine.build(spec(Optional.empty(), disks), Accelerator.TCG,
                OptionalLong.empty(), GuestRam.ANONYMOUS, file -> asked.add(file));
        List<String> cached = QemuCommandLine.build(spec(Optional.empty(), disks), Accelerator.TCG,
                OptionalLong.empty(), GuestRam.ANONYMOUS, file -> false);
        List<String> readOnly = QemuCommandLine.build(spec(Optional.empty(), disks()), Accelerator.TCG,
                OptionalLong.empty(), GuestRam.ANONYMOUS, file -> true);

        assertThat(values(direct, "-drive")).containsExactly(
                "id=disk0,file=" + VM + "/root.qcow2,format=qcow2,if=none",
                "id=disk1,file=" + VM + "/work.ext4,format=raw,if=none,cache.direct=on");
        assertThat(asked).as("only the work disk's file system is asked").containsExactly(VM.resolve("work.ext4"));
        assertThat(values(cached, "-drive")).containsExactly(
                "id=disk0,file=" + VM + "/root.qcow2,format=qcow2,if=none",
                "id=disk1,file=" + VM + "/work.ext4,format=raw,if=none");
        assertThat(values(readOnly, "-drive")).noneMatch(d -> d.contains("cache.direct"));
    }

    @Test
    void agentIsAVirtioSerialPortNamedBangerAgentAndQmpIsAUnixServer() {
        List<String> argv = QemuCommandLine.build(spec(Optional.empty(), List.of()), Accelerator.TCG,
                OptionalLong.empty());

        assertThat(values(argv, "-chardev")).containsExactly(
                "file,id=console,path=" + VM + "/console.log",
                "socket,id=agent,path=" + VM + "/agent.sock,server=on,wait=off",
                "socket,id=qmp,path=" + VM + "/qmp.sock,server=on,wait=off",
                "socket,id=qmp-events,path=" + VM + "/qmp-events.sock,server=on,wait=off");
        assertThat(values(argv, "-device")).containsExactly("virtio-serial-device",
                "virtserialport,chardev=agent,name=banger.agent");
        assertThat(values(argv, "-mon")).as("a second monitor for events: QEMU serves one client per monitor")
                .containsExactly("chardev=qmp,mode=control", "chardev=qmp-events,mode=control");
        assertThat(argv).doesNotContain("-netdev");
    }

    @Test
    void networkIsAPlainTapWithoutVhost() {
        List<String> argv = QemuCommandLine.build(spec(Optional.of(new NetworkSpec("tap0", "02:00:0a:00:00:02")),
                List.of()), Accelerator.TCG, OptionalLong.empty());

        assertThat(values(argv, "-netdev")).containsExactly("tap,id=net0,ifname=tap0,script=no,downscript=no");
        assertThat(values(argv, "-device")).contains("virtio-net-device,netdev=net0,mac=02:00:0a:00:00:02");
        assertThat(String.join(" ", argv)).doesNotContain("vhost");
    }

    @Test
    void kvmUsesHostCpuAndNoTscHint() {
        List<String> argv = QemuCommandLine.build(spec(Optional.empty(), List.of()), Accelerator.KVM,
                OptionalLong.of(2_596_000));
        assertThat(values(argv, "-accel")).containsExactly("kvm");
        assertThat(values(argv, "-cpu")).containsExactly("host");
        assertThat(values(argv, "-append")).containsExactly("console=ttyS0 quiet");
    }

    @Test
    void anExplicitTscHintIsKept() {
        assertThat(QemuCommandLine.cmdline("tsc_early_khz=1000 quiet tsc=unstable", Accelerator.TCG,
                OptionalLong.of(2_000_000))).isEqualTo("tsc_early_khz=1000 quiet tsc=unstable");
        assertThat(QemuCommandLine.cmdline("quiet", Accelerator.TCG, OptionalLong.empty()))
                .isEqualTo("quiet tsc=reliable");
    }

    @Test
    void commasInPathsAreEscapedTheQemuWay() {
        Path odd = Path.of("/tmp/a,b");
        VmSpec spec = new VmSpec("abc", "box", 1, 128, odd.resolve("k"), null, "", Collections.emptyList(),
                odd.resolve("agent.sock"), odd.resolve("qmp.sock"), odd.resolve("console.log"), odd, 3,
                Optional.empty());
        List<String> argv = QemuCommandLine.build(spec, Accelerator.TCG, OptionalLong.empty());
        assertThat(values(argv, "-chardev")).contains("socket,id=qmp,path=/tmp/a,,b/qmp.sock,server=on,wait=off");
        assertThat(argv).doesNotContain("-initrd");
    }

    @Test
    void aTemplateGuestKeepsItsRamInASharedFileAndAColdBootHasNoMemoryObject() {
        List<String> cold = QemuCommandLine.build(spec(Optional.empty(), disks()), Accelerator.TCG,
                OptionalLong.empty());
        assertThat(values(cold, "-object")).isEmpty();
        assertThat(cold).doesNotContain("-incoming");

        List<String> template = QemuCommandLine.build(spec(Optional.empty(), disks()), Accelerator.TCG,
                OptionalLong.empty(), GuestRam.sharedFile(Path.of("/t/memory.ram")));
        assertThat(values(template, "-M")).containsExactly("microvm,memory-backend=ram");
        assertThat(values(template, "-object"))
                .containsExactly("memory-backend-file,id=ram,size=512M,mem-path=/t/memory.ram,share=on");
        assertThat(template).doesNotContain("-incoming");
    }

    @Test
    void aCloneMapsTheTemplateRamPrivatelyAndWaitsForItsDeviceStateWithTheSameDevices() {
        VmSpec clone = spec(Optional.of(new NetworkSpec("tap9", "02:00:0a:00:00:09")), disks());
        List<String> argv = QemuCommandLine.build(clone, Accelerator.TCG, OptionalLong.of(2_596_000),
                GuestRam.restoreFrom(Path.of("/t/memory.ram")));
        assertThat(values(argv, "-object"))
                .containsExactly("memory-backend-file,id=ram,size=512M,mem-path=/t/memory.ram,share=off");
        assertThat(values(argv, "-incoming")).containsExactly("defer");
        List<String> booted = QemuCommandLine.build(clone, Accelerator.TCG, OptionalLong.of(2_596_000));
        assertThat(values(argv, "-device")).as("a restore needs the same devices in the same order")
                .isEqualTo(values(booted, "-device"));
        assertThat(values(argv, "-append")).isEqualTo(values(booted, "-append"));
    }

    @Test
    void migrationPathsAreBangersOwnAndAnythingAShellWouldReadIsRefused() {
        assertThat(QemuDriver.migrationPath(Path.of("/var/lib/banger/templates/.building-ab12-cd/device.state")))
                .isEqualTo("/var/lib/banger/templates/.building-ab12-cd/device.state");
        for (String bad : List.of("/tmp/a b/state", "/tmp/x;rm -rf ~/state", "/tmp/$(id)/state", "/tmp/a'b")) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> QemuDriver.migrationPath(Path.of(bad)))
                    .as(bad).hasMessageContaining("QEMU's exec: migration cannot take");
        }
    }
}
