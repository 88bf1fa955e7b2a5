package dev.banger.doctor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.banger.config.BangerPaths;
import dev.banger.doctor.CheckResult.Status;
import dev.banger.host.ProcessCommandRunner;
import dev.banger.testkit.RecordingCommandRunner;
import dev.banger.vmm.VmmChooser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DoctorTest {

    @TempDir
    Path home;

    @Test
    void onThisMachineItReportsThePvmHostAndQemu() {
        List<CheckResult> results = new Doctor(Doctor.HostProbe.real(), new ProcessCommandRunner(), paths()).run();

        if (Files.exists(Path.of("/sys/module/kvm_pvm"))) {
            assertThat(find(results, "kvm").status()).isEqualTo(Status.WARN);
            assertThat(find(results, "kvm").detail()).startsWith("KVM here is kvm_pvm")
                    .contains("guests run under QEMU with TCG emulation");
        } else {
            System.out.println("kvm_pvm is not loaded on this host; the PVM warning is checked with a fake host");
        }
        String kvmHere = VmmChooser.Kvm.probe(VmmChooser.Kvm.DEVICE, VmmChooser.Kvm.PVM_MODULE).fact();
        assertThat(find(results, "kvm").detail()).startsWith(kvmHere + ":");
        assertThat(find(results, "vmm").detail()).as("the kvm and vmm lines agree with vm create's choice")
                .startsWith("new VMs: " + kvmHere);
        assertThat(find(results, "qemu").status()).as("QEMU is installed for the test suite").isEqualTo(Status.PASS);
        assertThat(find(results, "qemu").detail()).contains("QEMU emulator version");
        assertThat(find(results, "daemon").status()).isEqualTo(Status.WARN);
        assertThat(find(results, "banger-init").status()).as("the build made a static banger-init")
                .isEqualTo(Status.PASS);
        assertThat(results).extracting(CheckResult::check).containsExactly("install", "service", "banger-init", "kvm", "qemu",
                "firecracker",
                "vmm", "qemu-img", "ip", "tun", "loop", "device-mapper", "e2fsprogs", "disk", "daemon", "nat", "dns-server",
                "dns-host");
    }

    @Test
    void pvmHostWarnsInOneKvmLineAndStaysHealthy() {
        FakeHost host = FakeHost.complete();
        host.paths.add(Path.of("/sys/module/kvm_pvm"));

        List<CheckResult> results = doctor(host).run();

        assertThat(find(results, "kvm").status()).isEqualTo(Status.WARN);
        assertThat(find(results, "kvm").detail()).isEqualTo("KVM here is kvm_pvm, which boots only PVM guest "
                + "kernels: ordinary guest kernels do not run under it, so guests run under QEMU with TCG emulation "
                + "(slow, but it works)");
        assertThat(find(results, "kvm").fix()).startsWith("nothing to do;");
        assertThat(find(results, "vmm").detail()).isEqualTo("new VMs: KVM here is kvm_pvm, which boots only PVM "
                + "guest kernels: QEMU with TCG emulation");
        assertThat(results).filteredOn(r -> r.check().startsWith("kvm")).hasSize(1);
        assertThat(Doctor.healthy(results)).isTrue();
    }

    @Test
    void kvm_absent_isTcg_andSaysHowToGetKvm() {
        FakeHost host = FakeHost.complete();
        host.paths.remove(Path.of("/dev/kvm"));

        List<CheckResult> results = doctor(host).run();

        assertThat(find(results, "kvm").status()).isEqualTo(Status.WARN);
        assertThat(find(results, "kvm").detail()).isEqualTo("no /dev/kvm: guests run under QEMU with TCG emulation "
                + "(slow, but it works)");
        assertThat(find(results, "kvm").fix()).contains("kvm_intel or kvm_amd");
        assertThat(find(results, "vmm").detail()).startsWith("new VMs: no /dev/kvm").endsWith("QEMU with TCG emulation");
        assertThat(Doctor.healthy(results)).isTrue();
    }

    @Test
    void kvm_withoutAccess_saysSoAndHowToGrantIt() {
        FakeHost host = FakeHost.complete();
        host.unopenable.add(Path.of("/dev/kvm"));

        List<CheckResult> results = doctor(host).run();

        assertThat(find(results, "kvm").status()).isEqualTo(Status.WARN);
        assertThat(find(results, "kvm").detail()).isEqualTo("/dev/kvm is not readable and writable by this user: "
                + "guests run under QEMU with TCG emulation (slow, but it works)");
        assertThat(find(results, "kvm").fix()).contains("usermod -aG kvm " + System.getProperty("user.name"));
        assertThat(find(results, "vmm").detail()).startsWith("new VMs: /dev/kvm is not readable and writable")
                .endsWith("QEMU with TCG emulation");
    }

    @Test
    void kvm_usable_namesQemuWithKvm_andFirecrackerWhenInstalled() {
        FakeHost noFirecracker = FakeHost.complete();
        noFirecracker.programs.remove("firecracker");

        CheckResult with = find(doctor(FakeHost.complete()).run(), "kvm");
        CheckResult without = find(doctor(noFirecracker).run(), "kvm");

        assertThat(with.status()).isEqualTo(Status.PASS);
        assertThat(with.detail()).isEqualTo("KVM is usable: guests run under QEMU with KVM, or Firecracker "
                + "(/usr/bin/true) when their kernel is an ELF vmlinux");
        assertThat(without.status()).isEqualTo(Status.PASS);
        assertThat(without.detail()).isEqualTo("KVM is usable: guests run under QEMU with KVM; Firecracker could "
                + "run them too, but it is not installed (docs/firecracker.md)");
    }

    @Test
    void vmm_onAKvmHostWithFirecracker_dependsOnTheKernel_whenNoDaemonSaysWhichItIs() {
        CheckResult vmm = find(doctor(FakeHost.complete()).run(), "vmm");

        assertThat(vmm.status()).isEqualTo(Status.PASS);
        assertThat(vmm.detail()).isEqualTo("new VMs: KVM is usable, firecracker is /usr/bin/true: Firecracker for "
                + "a kernel that is an ELF vmlinux, QEMU with KVM for a bzImage");
    }

    @Test
    void vmm_followsDefaultVmmInTheConfig_andFailsOnABadOne() throws Exception {
        Files.createDirectories(paths().configFile().getParent());
        Files.writeString(paths().configFile(), "{\"defaultVmm\": \"qemu\"}");
        assertThat(find(doctor(FakeHost.complete()).run(), "vmm").detail())
                .isEqualTo("new VMs: defaultVmm is \"qemu\" in the daemon's config.json: QEMU");

        Files.writeString(paths().configFile(), "{\"defaultVmm\": \"xen\"}");
        List<CheckResult> results = doctor(FakeHost.complete()).run();
        assertThat(find(results, "vmm").status()).isEqualTo(Status.FAIL);
        assertThat(find(results, "vmm").detail()).contains("defaultVmm 'xen'");
        assertThat(Doctor.healthy(results)).isFalse();
    }

    @Test
    void vmm_firecrackerByConfig_whereItCannotRun_warns() throws Exception {
        Files.createDirectories(paths().configFile().getParent());
        Files.writeString(paths().configFile(), "{\"defaultVmm\": \"firecracker\"}");
        FakeHost pvm = FakeHost.complete();
        pvm.paths.add(Path.of("/sys/module/kvm_pvm"));
        FakeHost noFirecracker = FakeHost.complete();
        noFirecracker.programs.remove("firecracker");

        CheckResult onPvm = find(doctor(pvm).run(), "vmm");
        CheckResult uninstalled = find(doctor(noFirecracker).run(), "vmm");

        assertThat(onPvm.status()).isEqualTo(Status.WARN);
        assertThat(onPvm.detail()).isEqualTo("new VMs: defaultVmm is \"firecracker\" in the daemon's config.json: "
                + "Firecracker, but KVM here is kvm_pvm, which boots only PVM guest kernels and Firecracker needs "
                + "KVM: they will not start");
        assertThat(onPvm.fix()).contains("to auto or qemu");
        assertThat(uninstalled.status()).isEqualTo(Status.WARN);
        assertThat(uninstalled.detail()).endsWith("but firecracker is not installed: they will not start");
        assertThat(find(doctor(FakeHost.complete()).run(), "vmm").status()).isEqualTo(Status.PASS);
    }

    @Test
    void vmm_withoutFirecrackerOrKvm_isQemu() {
        FakeHost noFirecracker = FakeHost.complete();
        noFirecracker.programs.remove("firecracker");
        FakeHost noKvm = FakeHost.complete();
        noKvm.paths.remove(Path.of("/dev/kvm"));

        assertThat(find(doctor(noFirecracker).run(), "vmm").detail()).endsWith("QEMU with KVM");
        assertThat(find(doctor(noKvm).run(), "vmm").detail()).endsWith("QEMU with TCG emulation");
    }

    @Test
    void aHealthyHostPassesEverythingButTheDaemon() {
        List<CheckResult> results = doctor(FakeHost.complete()).run();

        assertThat(results).filteredOn(r -> !r.check().equals("daemon") && !r.check().startsWith("dns-"))
                .allSatisfy(r -> assertThat(r.status()).as(r.check()).isEqualTo(Status.PASS));
        assertThat(Doctor.healthy(results)).isTrue();
    }

    @Test
    void missingEssentialsFailWithAFix() {
        FakeHost host = FakeHost.complete();
        host.programs.remove("qemu-system-x86_64");
        host.programs.remove("firecracker");
        host.programs.remove("mkfs.ext4");
        host.paths.remove(Path.of("/dev/net/tun"));

        List<CheckResult> results = doctor(host).run();

        assertThat(find(results, "qemu").status()).isEqualTo(Status.FAIL);
        assertThat(find(results, "qemu").fix()).contains("apt-get install qemu-system-x86");
        assertThat(find(results, "e2fsprogs").detail()).contains("mkfs.ext4");
        assertThat(find(results, "tun").status()).isEqualTo(Status.FAIL);
        assertThat(Doctor.healthy(results)).isFalse();
    }

    @Test
    void firecrackerAloneIsEnoughOfAVmm() {
        FakeHost host = FakeHost.complete();
        host.programs.remove("qemu-system-x86_64");
        host.programs.put("firecracker", Path.of("/usr/bin/true"));

        List<CheckResult> results = doctor(host).run();

        assertThat(find(results, "qemu").status()).isEqualTo(Status.WARN);
        assertThat(find(results, "firecracker").status()).isEqualTo(Status.PASS);
    }

    @Test
    void deviceMapperIsOptionalAndDetectedFromProcMisc() {
        FakeHost without = FakeHost.complete();
        without.paths.remove(Path.of("/dev/mapper/control"));
        without.files.remove(Path.of("/proc/misc"));
        FakeHost staleControl = FakeHost.complete();
        staleControl.files.put(Path.of("/proc/misc"), "200 tun\n");

        assertThat(find(doctor(without).run(), "device-mapper").status()).isEqualTo(Status.WARN);
        assertThat(find(doctor(staleControl).run(), "device-mapper").detail())
                .as("dmsetup creates /dev/mapper/control even where the kernel has no device-mapper")
                .contains("/dev/mapper/control exists but");
        assertThat(find(doctor(FakeHost.complete()).run(), "device-mapper").status()).isEqualTo(Status.PASS);
    }

    @Test
    void lowDiskSpaceFails() {
        FakeHost host = FakeHost.complete();
        host.freeBytes = 100L << 20;

        CheckResult disk = find(doctor(host).run(), "disk");

        assertThat(disk.status()).isEqualTo(Status.FAIL);
        assertThat(disk.detail()).contains("100.0 MiB free");
    }

    @Test
    void natReportsItsChainsAndWhetherBangerTurnedForwardingOn() throws Exception {
        RecordingCommandRunner fresh = natHost("0");
        fresh.when("iptables").thenFail(1, "iptables: No chain/target/match by that name.");
        RecordingCommandRunner inPlace = natHost("1");
        Files.createDirectories(paths().natForwardingMarker().getParent());
        Files.writeString(paths().natForwardingMarker(), "");
        RecordingCommandRunner noForwarding = natHost("0");

        CheckResult notYet = find(doctor(FakeHost.complete(), fresh).run(), "nat");
        CheckResult ok = find(doctor(FakeHost.complete(), inPlace).run(), "nat");
        Files.delete(paths().natForwardingMarker());
        CheckResult off = find(doctor(FakeHost.complete(), noForwarding).run(), "nat");

        assertThat(notYet.status()).isEqualTo(Status.PASS);
        assertThat(notYet.detail()).isEqualTo("iptables v1.8.9 (nft backend); not set up yet: bangerd adds "
                + "BANGER-POSTROUTING (nat) and BANGER-FORWARD (filter) for 172.30.77.0/24 and turns on "
                + "net.ipv4.ip_forward (now 0) when the first VM starts");
        assertThat(ok.status()).isEqualTo(Status.PASS);
        assertThat(ok.detail()).isEqualTo("iptables v1.8.9 (nft backend); BANGER-POSTROUTING (nat) and "
                + "BANGER-FORWARD (filter) for 172.30.77.0/24 in place; net.ipv4.ip_forward=1 (turned on by bangerd; "
                + "'banger daemon cleanup-network' turns it off)");
        assertThat(off.status()).isEqualTo(Status.WARN);
        assertThat(off.detail()).endsWith("in place but net.ipv4.ip_forward=0: guests cannot reach beyond the host");
        assertThat(off.fix()).contains("sysctl -w net.ipv4.ip_forward=1");
        assertThat(doctor(FakeHost.complete(), fresh).run()).as("one nat line, no separate prerequisites line")
                .filteredOn(r -> r.check().contains("nat") || r.check().contains("iptables")).hasSize(1);
    }

    @Test
    void nat_withoutRootSaysSo_andStillReportsIptablesAndForwarding() throws Exception {
        RecordingCommandRunner user = new RecordingCommandRunner();
        user.when("sysctl", "-n", "net.ipv4.ip_forward").thenReturn("1\n");
        user.when("iptables", "--version").thenReturn("iptables v1.8.7 (legacy)\n");
        user.when("iptables").thenFail(4, "iptables v1.8.7 (legacy): can't initialize iptables table `nat': "
                + "Permission denied (you must be root)\n");
        Files.createDirectories(paths().natForwardingMarker().getParent());
        Files.writeString(paths().natForwardingMarker(), "");

        CheckResult nat = find(doctor(FakeHost.complete(), user).run(), "nat");

        assertThat(nat.status()).isEqualTo(Status.WARN);
        assertThat(nat.detail()).isEqualTo("iptables v1.8.7 (legacy backend); net.ipv4.ip_forward=1 (turned on by "
                + "bangerd; 'banger daemon cleanup-network' turns it off); BANGER-POSTROUTING (nat) and "
                + "BANGER-FORWARD (filter) for 172.30.77.0/24 not checked: cannot read the rules (iptables v1.8.7 "
                + "(legacy): can't initialize iptables table `nat': Permission denied (you must be root))");
        assertThat(nat.fix()).isEqualTo("run banger doctor as root to see the chains");
    }

    @Test
    void natWithoutIptablesWarnsAndNatOffPasses() throws Exception {
        FakeHost noIptables = FakeHost.complete();
        noIptables.programs.remove("iptables");

        CheckResult missing = find(doctor(noIptables).run(), "nat");
        Files.createDirectories(paths().configFile().getParent());
        Files.writeString(paths().configFile(), "{\"network\": {\"nat\": false}}");
        CheckResult off = find(doctor(FakeHost.complete()).run(), "nat");

        assertThat(missing.status()).isEqualTo(Status.WARN);
        assertThat(missing.detail()).isEqualTo("iptables not found: guests cannot reach beyond the host");
        assertThat(missing.fix()).contains("apt-get install iptables");
        assertThat(off.status()).isEqualTo(Status.PASS);
        assertThat(off.detail()).isEqualTo("off by config (\"nat\": false in " + paths().configFile()
                + "): guests reach only the host and each other");
    }

    @Test
    void bangerInit_aStaticExecutablePasses_anythingElseFailsWithTheFix() {
        FakeHost missing = FakeHost.complete();
        missing.heads.remove(FakeHost.INIT);
        FakeHost dynamic = FakeHost.complete();
        dynamic.heads.put(FakeHost.INIT, elf(62, 6, 3, 1));
        FakeHost arm = FakeHost.complete();
        arm.heads.put(FakeHost.INIT, elf(183, 1));
        FakeHost text = FakeHost.complete();
        text.heads.put(FakeHost.INIT, "#!/bin/sh\necho hello\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        FakeHost noExec = FakeHost.complete();
        noExec.notExecutable.add(FakeHost.INIT);

        CheckResult ok = find(doctor(FakeHost.complete()).run(), "banger-init");
        List<CheckResult> absent = doctor(missing).run();

        assertThat(ok.status()).isEqualTo(Status.PASS);
        assertThat(ok.detail()).isEqualTo(FakeHost.INIT + " (static x86-64 executable)");
        assertThat(find(absent, "banger-init").status()).isEqualTo(Status.FAIL);
        assertThat(find(absent, "banger-init").detail()).isEqualTo(FakeHost.INIT + " does not exist: VMs cannot boot");
        assertThat(find(absent, "banger-init").fix()).startsWith("build it: mvn -q package -DskipTests");
        assertThat(Doctor.healthy(absent)).isFalse();
        assertThat(find(doctor(dynamic).run(), "banger-init").detail()).contains("dynamically linked");
        assertThat(find(doctor(arm).run(), "banger-init").detail()).contains("not built for x86-64");
        assertThat(find(doctor(text).run(), "banger-init").detail()).contains("is not an ELF executable");
        assertThat(find(doctor(noExec).run(), "banger-init").detail()).endsWith("is not executable: VMs cannot "
                + "boot with it");
        CheckResult packaged = find(new Doctor(missing, natHost("1"), paths(), FakeHost.INIT, true).run(),
                "banger-init");
        assertThat(packaged.fix()).isEqualTo("reinstall the package: apt-get install --reinstall banger");
    }

    @Test
    void bangerInit_onRealFiles_theBuildsIsStatic_andJavaIsNot() throws Exception {
        Path built = dev.banger.config.BangerInstall.initBinary();
        Doctor.HostProbe real = Doctor.HostProbe.real();

        assertThat(new GuestInitCheck(real, built, false).run().status()).as(built.toString())
                .isEqualTo(Status.PASS);
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        assertThat(GuestInitCheck.staticExecutableProblem(real.readHead(java, GuestInitCheck.HEAD_BYTES)
                .orElseThrow())).as(java.toString()).hasValue("dynamically linked (it names a program "
                        + "interpreter), not static");
    }

    /** The start of a 64-bit little-endian ELF executable for {@code machine} with program headers of these types. */
    static byte[] elf(int machine, int... programHeaderTypes) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(64 + 56 * programHeaderTypes.length)
                .order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {0x7f, 'E', 'L', 'F', 2, 1, 1});
        b.putShort(16, (short) 2).putShort(18, (short) machine).putLong(32, 64).putShort(54, (short) 56)
                .putShort(56, (short) programHeaderTypes.length);
        for (int i = 0; i < programHeaderTypes.length; i++) {
            b.putInt(64 + 56 * i, programHeaderTypes[i]);
        }
        return b.array();
    }

    @Test
    void theReadmeListsEveryCheckByItsStableName() throws Exception {
        String readme = Files.readString(Path.of("README.md"));
        int start = readme.indexOf("### `banger doctor`");
        assertThat(start).as("README.md has a banger doctor section").isNotNegative();
        String section = readme.substring(start, readme.indexOf("\n## ", start));

        assertThat(doctor(FakeHost.complete()).run()).extracting(CheckResult::check)
                .allSatisfy(name -> assertThat(section).as(name).contains("`" + name + "`"));
    }

    @Test
    void install_saysBuildTreeOutsideThePackage() {
        CheckResult install = find(doctor(FakeHost.complete()).run(), "install");

        assertThat(install.status()).isEqualTo(Status.PASS);
        assertThat(install.detail()).startsWith("build tree, ");
    }

    @Test
    void service_followsTheUnitFilesAndSystemd() {
        FakeHost noUnit = FakeHost.complete();
        FakeHost unitNoSystemd = FakeHost.complete();
        unitNoSystemd.paths.add(Path.of("/lib/systemd/system/bangerd.socket"));
        FakeHost unitAndSystemd = FakeHost.complete();
        unitAndSystemd.paths.addAll(List.of(Path.of("/lib/systemd/system/bangerd.socket"),
                Path.of("/run/systemd/system")));
        RecordingCommandRunner listening = natHost("1");
        listening.when("systemctl", "is-active", "bangerd.socket").thenReturn("active\n");
        listening.when("systemctl", "is-active", "bangerd.service").thenFail(3, "");
        RecordingCommandRunner stopped = natHost("1");
        stopped.when("systemctl", "is-active", "bangerd.socket").thenAnswer(c -> failedWith("inactive\n"));
        stopped.when("systemctl", "is-active", "bangerd.service").thenAnswer(c -> failedWith("inactive\n"));

        CheckResult none = find(doctor(noUnit).run(), "service");
        CheckResult chroot = find(doctor(unitNoSystemd).run(), "service");
        CheckResult active = find(doctor(unitAndSystemd, listening).run(), "service");
        CheckResult off = find(doctor(unitAndSystemd, stopped).run(), "service");

        assertThat(none.status()).isEqualTo(Status.PASS);
        assertThat(none.detail()).isEqualTo("no bangerd.socket installed: the CLI starts bangerd on first use");
        assertThat(chroot.status()).isEqualTo(Status.WARN);
        assertThat(chroot.detail()).startsWith("/lib/systemd/system/bangerd.socket is installed but systemd is not "
                + "running here");
        assertThat(active.status()).isEqualTo(Status.PASS);
        assertThat(active.detail()).isEqualTo("bangerd.socket active, bangerd.service unknown (started by the first "
                + "connection)");
        assertThat(off.status()).isEqualTo(Status.WARN);
        assertThat(off.detail()).isEqualTo("bangerd.socket inactive, bangerd.service inactive (started by the first "
                + "connection)");
        assertThat(off.fix()).startsWith("systemctl enable --now bangerd.socket");
    }

    private static dev.banger.host.CommandResult failedWith(String stdout) {
        return new dev.banger.host.CommandResult(3, stdout.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                new byte[0]);
    }

    /**
     * A host whose sysctl says {@code forwarding} and whose iptables (nft backend) lets root read the rules and has
     * every one of banger's (unless told otherwise).
     */
    private static RecordingCommandRunner natHost(String forwarding) {
        RecordingCommandRunner runner = new RecordingCommandRunner();
        runner.when("sysctl", "-n", "net.ipv4.ip_forward").thenReturn(forwarding + "\n");
        runner.when("iptables", "--version").thenReturn("iptables v1.8.9 (nf_tables)\n");
        runner.when("iptables", "-w", "-t", "nat", "-S", "POSTROUTING").thenReturn("-P POSTROUTING ACCEPT\n");
        return runner;
    }

    private Doctor doctor(FakeHost host) {
        return doctor(host, natHost("1"));
    }

    private Doctor doctor(FakeHost host, RecordingCommandRunner runner) {
        return new Doctor(host, runner, paths(), FakeHost.INIT, false);
    }

    private BangerPaths paths() {
        return BangerPaths.resolve(Map.of("BANGER_HOME", home.toString()), "/", 0);
    }

    private static CheckResult find(List<CheckResult> results, String check) {
        return results.stream().filter(r -> r.check().equals(check)).findFirst().orElseThrow();
    }

    /** A host whose files and programs the test decides; their commands are answered by a recording runner. */
    static final class FakeHost implements Doctor.HostProbe {
        /** Where this host's banger-init is. */
        static final Path INIT = Path.of("/opt/banger/guest/banger-init");

        final Set<Path> paths = new java.util.HashSet<>();
        /** The first bytes of files. */
        final Map<Path, byte[]> heads = new HashMap<>();
        final Set<Path> notExecutable = new java.util.HashSet<>();
        /** Paths that exist but this user cannot open read-write. */
        final Set<Path> unopenable = new java.util.HashSet<>();
        final Map<Path, String> files = new HashMap<>();
        final Map<String, Path> programs = new HashMap<>();
        final Map<String, List<String>> names = new HashMap<>();
        long freeBytes = 100L << 30;

        static FakeHost complete() {
            FakeHost host = new FakeHost();
            host.paths.addAll(List.of(Path.of("/dev/kvm"), Path.of("/dev/net/tun"), Path.of("/dev/loop-control"),
                    Path.of("/dev/mapper/control"), Path.of("/")));
            host.files.put(Path.of("/proc/misc"), "236 device-mapper\n");
            host.heads.put(INIT, elf(62, 6, 1, 1));
            for (String p : List.of("qemu-system-x86_64", "firecracker", "qemu-img", "ip", "mkfs.ext4", "resize2fs",
                    "debugfs", "e2fsck", "iptables", "sysctl")) {
                host.programs.put(p, Path.of("/usr/bin/true"));
            }
            return host;
        }

        @Override
        public boolean exists(Path path) {
            return paths.contains(path) || files.containsKey(path) || heads.containsKey(path)
                    || path.toString().startsWith("/tmp");
        }

        @Override
        public boolean canOpenReadWrite(Path path) {
            return paths.contains(path) && !unopenable.contains(path);
        }

        @Override
        public Optional<String> readFile(Path path) {
            return Optional.ofNullable(files.get(path));
        }

        @Override
        public Optional<Path> findProgram(String name) {
            return Optional.ofNullable(programs.get(name));
        }

        @Override
        public Optional<byte[]> readHead(Path path, int bytes) {
            return Optional.ofNullable(heads.get(path)).map(h -> java.util.Arrays.copyOf(h, Math.min(bytes, h.length)));
        }

        @Override
        public boolean isExecutable(Path path) {
            return heads.containsKey(path) && !notExecutable.contains(path);
        }

        @Override
        public long usableSpace(Path dir) {
            return freeBytes;
        }

        @Override
        public List<String> resolve(String name) {
            return names.getOrDefault(name, List.of());
        }
    }
}
