package dev.banger.vm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.banger.api.BangerException;
import dev.banger.api.ErrorCode;
import dev.banger.api.VmCreateRequest;
import dev.banger.api.VmDeleteRequest;
import dev.banger.api.VmStopRequest;
import dev.banger.api.VmView;
import dev.banger.config.BangerPaths;
import dev.banger.config.DaemonConfig;
import dev.banger.dns.DnsRecords;
import dev.banger.dns.HostResolverHook;
import dev.banger.dns.VmDns;
import dev.banger.guest.ExecSpec;
import dev.banger.host.ProcessCommandRunner;
import dev.banger.host.network.HostNetwork;
import dev.banger.image.ImageService;
import dev.banger.kernel.KernelImporter;
import dev.banger.kernel.KernelService;
import dev.banger.model.Image;
import dev.banger.model.Kernel;
import dev.banger.model.KernelArtifacts;
import dev.banger.model.KernelFormat;
import dev.banger.model.KernelSource;
import dev.banger.model.Vm;
import dev.banger.model.VmState;
import dev.banger.model.VmmKind;
import dev.banger.rpc.Call;
import dev.banger.ssh.GuestSsh;
import dev.banger.store.Database;
import dev.banger.store.ImageStore;
import dev.banger.store.KernelStore;
import dev.banger.store.VmStore;
import dev.banger.testkit.AgentProcess;
import dev.banger.testkit.FakeKernel;
import dev.banger.testkit.RecordingCommandRunner;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The VM lifecycle against a fake VMM whose guest is the real banger-init on a host socket (see {@link FakeVmm}):
 * boot, the failure paths of a boot and what they leave behind, stop, delete and reconcile. Disks are real (qemu-img
 * overlay, mkfs.ext4 work disk); the host network's {@code ip} commands are recorded, not run.
 */
class VmLifecycleTest {

    @TempDir
    Path tmp;

    private BangerPaths paths;
    private Database db;
    private VmStore vmStore;
    private RecordingCommandRunner ip;
    private FakeVmm vmm;
    private RunningVms running;
    private VmLifecycle service;

    @BeforeEach
    void setUp() throws IOException {
        paths = new BangerPaths(tmp.resolve("state"), tmp.resolve("config"), tmp.resolve("run"));
        Files.createDirectories(paths.stateDir());
        Files.createDirectories(paths.runtimeDir());
        db = Database.openReadWrite(paths.database());
        vmStore = new VmStore(db);
        ImageStore imageStore = new ImageStore(db);
        KernelStore kernelStore = new KernelStore(db);
        Clock clock = Clock.systemUTC();

        Path kernelDir = Files.createDirectories(paths.kernelsDir().resolve("k"));
        Path modules = Files.write(kernelDir.resolve("modules.cpio.gz"), new byte[0]);
        kernelStore.insert(new Kernel("k", new KernelArtifacts(FakeKernel.VERSION, KernelFormat.BZIMAGE,
                FakeKernel.write(kernelDir.resolve("vmlinuz")), modules, List.of(),
                new KernelSource(KernelSource.Kind.FILE, "test")), true, clock.instant()));
        Path imageDir = Files.createDirectories(paths.imagesDir().resolve("img"));
        Path rootfs = FakeKernel.writeRootfs(imageDir.resolve("rootfs.ext4"));
        imageStore.insert(new Image("img", "register:test", null, rootfs, Files.size(rootfs), Map.of("LANG", "C"),
                null, List.of(), List.of(), clock.instant()));

        ip = new RecordingCommandRunner();
        ip.when("ip", "-j", "link", "show").thenReturn("[{\"ifname\":\"present\"}]");
        ip.when("ip", "-j", "-4", "addr", "show").thenReturn("[]");
        vmm = new FakeVmm(Files.createDirectories(tmp.resolve("vmm")));
        DaemonConfig config = new DaemonConfig(null, 1, 256, 64L, 5, null, "off");
        HostNetwork network = new HostNetwork(ip, config.networkConfig());
        ImageService images = new ImageService(paths, imageStore, vmStore, new ProcessCommandRunner(), clock, null);
        KernelService kernels = new KernelService(paths, kernelStore, vmStore,
                new KernelImporter(new ProcessCommandRunner()), clock);
        VmDns dns = new VmDns(DnsRecords.inMemory(), HostResolverHook.forHost(new RecordingCommandRunner()),
                network.config().bridge(), Optional.empty());
        running = new RunningVms(paths, vmStore, images, Map.of(VmmKind.QEMU, vmm));
        service = new VmLifecycle(paths, config, vmStore, images, kernels, running, network,
                new ProcessCommandRunner(), AgentProcess.binary(), clock, new GuestSsh(paths), dns);
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        vmm.closeAll();
        db.close();
    }

    private VmView create(String name) {
        return service.create(new VmCreateRequest(name, null, null, null, null, null, null, false), Call.detached());
    }

    private Vm record(String name) {
        return vmStore.findByName(name).orElseThrow();
    }

    private String tap(String name) {
        return HostNetwork.tapName(record(name).id());
    }

    @Test
    void createBootsTheVmAndRecordsWhatItHolds() throws Exception {
        VmView view = create("alpha");

        assertThat(view.state()).isEqualTo("running");
        assertThat(view.pid()).isPositive();
        Vm vm = record("alpha");
        assertThat(vm.state()).isEqualTo(VmState.RUNNING);
        String handles = Files.readString(paths.vmHandlesFile(vm.id()));
        assertThat(handles).as("handles.json names the VMM and the tap")
                .contains("\"pid\":" + view.pid()).contains(tap("alpha"));
        assertThat(ip.commandLines()).anyMatch(c -> c.startsWith("ip tuntap add") && c.contains(tap("alpha")));
        assertThat(vmm.launched).singleElement().satisfies(spec -> {
            assertThat(spec.kernelCmdline()).contains("banger.hostname=alpha");
            assertThat(spec.disks()).hasSize(2);
        });
        assertThat(running.agent(vm).ping().version()).as("the agent answers through the VM service").isNotEmpty();
        assertThat(Files.exists(vm.rootDiskPath())).isTrue();
        assertThat(Files.exists(vm.workDiskPath())).isTrue();
    }

    @Test
    void aLaunchThatFailsLeavesTheVmInErrorWithNothingHeld() throws Exception {
        vmm.behave(FakeVmm.Behaviour.LAUNCH_FAILS);

        assertThatThrownBy(() -> create("beta")).isInstanceOf(BangerException.class)
                .hasMessageContaining("Could not open");

        Vm vm = record("beta");
        assertThat(vm.state()).isEqualTo(VmState.ERROR);
        assertThat(vm.lastError()).contains("Could not open");
        assertThat(paths.vmHandlesFile(vm.id())).doesNotExist();
        assertThat(paths.vmRuntimeDir(vm.id())).doesNotExist();
        assertThat(ip.commandLines()).as("the tap the boot made is deleted")
                .contains("ip link del " + tap("beta"));
        assertThat(Files.exists(vm.rootDiskPath())).as("disks stay: the VM can be started again").isTrue();
    }

    @Test
    void aGuestWhoseAgentNeverAnswersIsTerminatedAtTheBootTimeout() throws Exception {
        vmm.behave(FakeVmm.Behaviour.AGENT_SILENT);

        assertThatThrownBy(() -> create("gamma")).isInstanceOf(BangerException.class)
                .hasMessageContaining("did not answer within 5s");

        Vm vm = record("gamma");
        assertThat(vm.state()).isEqualTo(VmState.ERROR);
        assertThat(vm.lastError()).contains("serial console log");
        assertThat(ProcessHandle.allProcesses().filter(p -> p.info().commandLine().orElse("").equals("sleep 60")))
                .as("the silent VMM is terminated").isEmpty();
        assertThat(paths.vmHandlesFile(vm.id())).doesNotExist();
    }

    @Test
    void aVmmThatExitsDuringBootIsReportedAsSuch() {
        vmm.behave(FakeVmm.Behaviour.EXITS_DURING_BOOT);

        assertThatThrownBy(() -> create("delta")).isInstanceOf(BangerException.class)
                .hasMessageContaining("exited during boot");

        assertThat(record("delta").state()).isEqualTo(VmState.ERROR);
    }

    @Test
    void aFailedVmStartsAgainOnceTheCauseIsGone() {
        vmm.behave(FakeVmm.Behaviour.LAUNCH_FAILS);
        assertThatThrownBy(() -> create("epsilon")).isInstanceOf(BangerException.class);
        vmm.behave(FakeVmm.Behaviour.BOOTS);

        VmView started = service.start("epsilon", Call.detached());

        assertThat(started.state()).isEqualTo("running");
        assertThat(record("epsilon").lastError()).isNull();
    }

    @Test
    void stopAsksTheGuestToPowerOffAndReleasesEverything() throws Exception {
        VmView view = create("zeta");
        Vm vm = record("zeta");

        VmView stopped = service.stop(new VmStopRequest("zeta", false), Call.detached());

        assertThat(stopped.state()).isEqualTo("stopped");
        assertThat(ProcessHandle.of(view.pid()).map(ProcessHandle::isAlive).orElse(false))
                .as("the agent's shutdown ended the VMM").isFalse();
        assertThat(paths.vmHandlesFile(vm.id())).doesNotExist();
        assertThat(paths.vmRuntimeDir(vm.id())).doesNotExist();
        assertThat(ip.commandLines()).contains("ip link del " + tap("zeta"));
        assertThatThrownBy(() -> running.agent(record("zeta"))).isInstanceOf(BangerException.class)
                .hasMessageContaining("is not running");
    }

    @Test
    void execRunsInTheGuestThroughTheAgent() throws Exception {
        create("eta");

        var process = running.agent(record("eta")).exec(ExecSpec.of(List.of("sh", "-c", "echo $LANG")));

        assertThat(new String(process.stdout().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("\n");
        assertThat(process.waitFor().exitCode()).isZero();
    }

    @Test
    void deleteOfARunningVmNeedsForceAndThenLeavesNothing() throws Exception {
        VmView view = create("theta");
        Vm vm = record("theta");

        assertThatThrownBy(() -> service.delete(new VmDeleteRequest(List.of("theta"), false)))
                .isInstanceOfSatisfying(BangerException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CONFLICT));
        service.delete(new VmDeleteRequest(List.of("theta"), true));

        assertThat(vmStore.findByName("theta")).isEmpty();
        assertThat(vm.vmDir()).doesNotExist();
        assertThat(paths.vmRuntimeDir(vm.id())).doesNotExist();
        assertThat(ProcessHandle.of(view.pid()).map(ProcessHandle::isAlive).orElse(false)).isFalse();
    }

    @Test
    void reconcileAdoptsALiveVmAndDemotesOneWhoseVmmDied() throws Exception {
        VmView live = create("iota");
        create("kappa");
        vmm.crash(record("kappa").id());

        service.reconcile();

        assertThat(record("iota").state()).isEqualTo(VmState.RUNNING);
        assertThat(service.show("iota").pid()).isEqualTo(live.pid());
        Vm demoted = record("kappa");
        assertThat(demoted.state()).isEqualTo(VmState.STOPPED);
        assertThat(demoted.lastError()).contains("stopped by reconcile").contains("was gone");
        assertThat(paths.vmHandlesFile(demoted.id())).doesNotExist();
        assertThat(ip.commandLines()).contains("ip link del " + tap("kappa"));
    }

    @Test
    void createRefusesResourcesOutOfRangeBeforeRecordingAnything() {
        assertThatThrownBy(() -> service.create(new VmCreateRequest("lambda", null, null, 0, null, null, null,
                true), Call.detached())).hasMessageContaining("--cpus 0 is out of range");
        assertThatThrownBy(() -> service.create(new VmCreateRequest("lambda", null, null, null, 64, null, null,
                true), Call.detached())).hasMessageContaining("--memory 64M is too small");

        assertThat(vmStore.findByName("lambda")).isEmpty();
    }
}
