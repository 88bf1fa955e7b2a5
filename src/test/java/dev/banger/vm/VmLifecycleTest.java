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
import dev.banger.guest.ExecSpec;
import dev.banger.host.disk.FakeDevices;
import dev.banger.model.Vm;
import dev.banger.model.VmState;
import dev.banger.rpc.Call;
import dev.banger.store.VmStore;
import dev.banger.testkit.RecordingCall;
import dev.banger.testkit.RecordingCommandRunner;
import dev.banger.vmm.GuestPause;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import dev.banger.guest.ShutdownAction;
import java.util.List;
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

    private FakeHost host;
    private BangerPaths paths;
    private VmStore vmStore;
    private RecordingCommandRunner ip;
    private FakeVmm vmm;
    private RunningVms running;
    private VmLifecycle service;

    @BeforeEach
    void setUp() throws IOException {
        host = new FakeHost(tmp);
        paths = host.paths;
        vmStore = host.vmStore;
        ip = host.ip;
        vmm = host.vmm;
        running = host.running;
        service = host.lifecycle;
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        host.close();
    }

    private VmView create(String name) {
        return host.create(name);
    }

    private Vm record(String name) {
        return host.record(name);
    }

    private String tap(String name) {
        return host.tap(name);
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
                .hasMessageContaining("did not answer within 5s")
                .hasMessageEndingWith("the serial console's last lines: [    0.912345] Run /init as init process");

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
                .hasMessageContaining("exited during boot")
                .hasMessageContaining("the serial console's last lines: [    0.812345] Kernel panic - not syncing");

        assertThat(record("delta").state()).isEqualTo(VmState.ERROR);
        assertThat(record("delta").lastError()).as("the message outlives the console log, which goes with the VM")
                .contains("Kernel panic");
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
        assertThat(aliveAfterWaitingForItToEnd(view.pid()))
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
        assertThat(aliveAfterWaitingForItToEnd(view.pid())).isFalse();
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
                true, false), Call.detached())).hasMessageContaining("--cpus 0 is out of range");
        assertThatThrownBy(() -> service.create(new VmCreateRequest("lambda", null, null, null, 64, null, null,
                true, false), Call.detached())).hasMessageContaining("--memory 64M is too small");

        assertThat(vmStore.findByName("lambda")).isEmpty();
    }

    @Test
    void aVmmKilledBehindTheDaemonsBackIsNoticedAndItsVmReleased() throws Exception {
        service.watchVmms(Duration.ofMillis(50));
        VmView view = create("mu");
        Vm vm = record("mu");

        vmm.crash(vm.id());

        Vm after = awaitState("mu", VmState.ERROR);
        assertThat(after.lastError()).contains("exited unexpectedly").contains("pid " + view.pid());
        assertThat(paths.vmHandlesFile(vm.id())).doesNotExist();
        assertThat(ip.commandLines()).contains("ip link del " + tap("mu"));
        assertThatThrownBy(() -> running.agent(record("mu"))).isInstanceOf(BangerException.class)
                .hasMessageContaining("is not running (state error)");
        assertThat(service.start("mu", Call.detached()).state()).as("it starts again").isEqualTo("running");
    }

    @Test
    void aPausedGuestShowsWhyRefusesGuestCallsAtOnceAndResumesOnDemand() throws Exception {
        service.watchVmms(Duration.ofMillis(50));
        create("xi");
        Vm vm = record("xi");

        vmm.pause(vm.id(), new GuestPause(GuestPause.Cause.IO_ERROR, "write on drive disk1 failed: EIO"));

        VmView paused = awaitView("xi", v -> v.state().equals("paused"));
        assertThat(paused.pauseReason()).isEqualTo("host I/O error");
        assertThat(paused.pauseDetail()).isEqualTo("write on drive disk1 failed: EIO");
        assertThat(record("xi").state()).as("the record keeps its durable state").isEqualTo(VmState.RUNNING);
        assertThatThrownBy(() -> running.agent(record("xi"))).isInstanceOf(BangerException.class)
                .hasMessageContaining("VM 'xi' is paused: host I/O error (write on drive disk1 failed: EIO)")
                .hasMessageContaining("banger vm resume xi");

        VmView resumed = service.resume("xi");

        assertThat(vmm.resumed).containsExactly(vm.id());
        assertThat(resumed.state()).isEqualTo("running");
        assertThat(resumed.pauseReason()).isNull();
        assertThat(running.agent(record("xi")).ping()).isNotNull();
    }

    @Test
    void aGuestPausedByAFullDiskResumesByItselfOnceSpaceIsFree() throws Exception {
        service.watchVmms(Duration.ofMillis(50));
        create("omicron");
        Vm vm = record("omicron");
        long free = Files.getFileStore(vm.vmDir()).getUsableSpace();
        assertThat(free).as("this test needs " + GuestPauses.RESUME_FREE_BYTES + " bytes free in " + vm.vmDir())
                .isGreaterThanOrEqualTo(GuestPauses.RESUME_FREE_BYTES);

        vmm.pause(vm.id(), new GuestPause(GuestPause.Cause.HOST_DISK_FULL, "write on drive disk1 failed: ENOSPC"));

        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (vmm.resumed.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(vmm.resumed).as("resumed: the VM's filesystem has the space").containsExactly(vm.id());
        assertThat(awaitView("omicron", v -> v.pauseReason() == null).state()).isEqualTo("running");
    }

    @Test
    void stopOfAGuestPausedByAnIoErrorDoesNotWaitForIt() throws Exception {
        service.watchVmms(Duration.ofMillis(50));
        create("pi");
        Vm vm = record("pi");
        vmm.pause(vm.id(), new GuestPause(GuestPause.Cause.IO_ERROR, "write on drive disk0 failed: EIO"));
        awaitView("pi", v -> v.state().equals("paused"));
        RecordingCall call = new RecordingCall();

        VmView stopped = service.stop(new VmStopRequest("pi", false), call);

        assertThat(stopped.state()).isEqualTo("stopped");
        assertThat(call.progressDetails()).contains(
                "the guest is paused (host I/O error) and cannot power off; stopping its VMM");
        assertThat(paths.vmRuntimeDir(vm.id())).doesNotExist();
    }

    private VmView awaitView(String name, java.util.function.Predicate<VmView> condition) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        VmView view = service.show(name);
        while (!condition.test(view)) {
            assertThat(System.nanoTime() - deadline).as("VM %s, last seen %s", name, view).isNegative();
            Thread.sleep(20);
            view = service.show(name);
        }
        return view;
    }

    @Test
    void aGuestThatShutsItselfDownIsRecordedStopped() throws Exception {
        service.watchVmms(Duration.ofMillis(50));
        create("nu");
        Vm vm = record("nu");
        // What a real guest's console shows last when it powers itself off (banger-init, then the kernel).
        Files.writeString(vm.logPath(), "banger-init: powering off: stopping all processes\n"
                + "banger-init: power off\n[   12.345678] reboot: Power down\n");

        running.agent(vm).shutdown(ShutdownAction.POWEROFF);

        Vm after = awaitState("nu", VmState.STOPPED);
        assertThat(after.lastError()).contains("exited after the guest shut down").contains("reboot: Power down");
        assertThat(paths.vmHandlesFile(vm.id())).doesNotExist();
    }

    @Test
    void aStopIsNotMistakenForACrash() throws Exception {
        service.watchVmms(Duration.ofMillis(20));
        create("xi");

        service.stop(new VmStopRequest("xi", false), Call.detached());
        Thread.sleep(300);

        assertThat(record("xi").state()).isEqualTo(VmState.STOPPED);
        assertThat(record("xi").lastError()).isNull();
    }

    @Test
    void reconcileKillsAVmmThatADaemonKilledMidBootHadNotRecordedYet() throws Exception {
        VmView view = create("omicron");
        Vm vm = record("omicron");
        // The daemon died between launching the VMM and writing its pid: the VM is "starting", its handles
        // name the tap but no VMM, and the VMM runs on.
        vmStore.update(vm.withState(VmState.STARTING, null, vm.updatedAt()));
        running.handles().put(vm.id(), VmHandles.NONE.withTap(tap("omicron")));

        service.reconcile();

        Vm after = record("omicron");
        assertThat(after.state()).isEqualTo(VmState.STOPPED);
        assertThat(after.lastError()).contains("the daemon stopped while it was starting");
        assertThat(aliveAfterWaitingForItToEnd(view.pid()))
                .as("the VMM found by its control socket is terminated").isFalse();
        assertThat(paths.vmHandlesFile(vm.id())).doesNotExist();
    }

    @Test
    void reconcileAdoptsARunningVmWhoseHandlesLostTheVmm() throws Exception {
        VmView view = create("pi");
        Vm vm = record("pi");
        running.handles().put(vm.id(), VmHandles.NONE.withTap(tap("pi")));

        service.reconcile();

        assertThat(record("pi").state()).isEqualTo(VmState.RUNNING);
        assertThat(service.show("pi").pid()).isEqualTo(view.pid());
        assertThat(running.agent(record("pi")).ping().version()).isNotEmpty();
    }

    @Test
    void deleteRemovesWhatExistsAndNamesWhatDoesNot() {
        create("rho");
        create("sigma");

        assertThatThrownBy(() -> service.delete(new VmDeleteRequest(List.of("rho", "nope", "sigma"), true)))
                .isInstanceOfSatisfying(BangerException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND);
                    assertThat(e.getMessage()).isEqualTo("no such VM: nope (deleted rho, sigma); see: banger vm list");
                });
        assertThat(vmStore.list()).isEmpty();
    }

    @Test
    void deleteWithoutForceRemovesWhatIsStoppedAndNamesWhatRunsAndWhatDoesNotExist() {
        create("tau");
        create("upsilon");
        service.create(new VmCreateRequest("phi", null, null, null, null, null, null, true, false), Call.detached());

        assertThatThrownBy(() -> service.delete(new VmDeleteRequest(List.of("tau", "nope", "phi", "upsilon"),
                false))).isInstanceOfSatisfying(BangerException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.CONFLICT);
                    assertThat(e.getMessage()).isEqualTo("VMs tau, upsilon are running; stop them first or use --force; "
                            + "no such VM: nope (deleted phi)");
                });
        assertThat(vmStore.list()).extracting(Vm::name).containsExactlyInAnyOrder("tau", "upsilon");
        assertThat(service.show("tau").state()).isEqualTo("running");
    }

    // ---- a daemon killed outside a boot: promote and provisioning ----

    @Test
    void aDaemonKilledWhilePromotingADeviceMapperDiskLeavesHandlesTheNextDaemonReleases() throws Exception {
        service.create(new VmCreateRequest("tau", null, null, null, null, null, null, true, false), Call.detached());
        Vm vm = onDeviceMapper(record("tau"));
        FakeDevices devices = new FakeDevices();
        java.util.concurrent.CountDownLatch killed = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch dead = new java.util.concurrent.CountDownLatch(1);
        host.programs.when("losetup").thenAnswer(devices);
        host.programs.when("dmsetup", "create").thenAnswer(c -> {
            devices.apply(c);
            killed.countDown();
            await(dead); // kill -9 right after the snapshot device exists: this daemon does nothing more.
            throw new IllegalStateException("this daemon is dead");
        });
        Thread promote = new Thread(() -> {
            try {
                service.promote("tau", "captured");
            } catch (RuntimeException expected) {
                // The "dead" daemon's call ends when the test lets it go.
            }
        });
        promote.start();
        try {
            assertThat(killed.await(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            assertThat(devices.loops).as("the kill left both loops attached").hasSize(2);
            assertThat(devices.dm).containsOnlyKeys("banger-" + vm.id());

            RecordingCommandRunner next = new RecordingCommandRunner().otherwise(devices);
            host.nextDaemon(next).reconcile();

            assertThat(devices.isEmpty()).as("the next daemon released what the killed promote held: "
                    + next.commandLines()).isTrue();
            assertThat(paths.vmHandlesFile(vm.id())).doesNotExist();
            assertThat(record("tau").state()).as("it was not running, and is not now").isEqualTo(VmState.CREATED);
        } finally {
            dead.countDown();
            promote.join();
        }
    }

    @Test
    void reconcileReleasesWhatAKilledDaemonLeftOfACreatedVmAndLeavesItCreated() throws Exception {
        service.create(new VmCreateRequest("upsilon", null, null, null, null, null, null, true, false), Call.detached());
        Vm vm = record("upsilon");
        Files.createDirectories(paths.vmRuntimeDir(vm.id()));
        Files.createDirectories(paths.vmWorkSeedDir(vm.id()).resolve(".ssh"));
        running.handles().put(vm.id(), VmHandles.NONE.withTap(tap("upsilon")));

        service.reconcile();

        assertThat(paths.vmRuntimeDir(vm.id())).doesNotExist();
        assertThat(paths.vmHandlesFile(vm.id())).doesNotExist();
        assertThat(paths.vmWorkSeedDir(vm.id())).as("the seed holds the VM's private host key").doesNotExist();
        assertThat(ip.commandLines()).contains("ip link del " + tap("upsilon"));
        assertThat(record("upsilon").state()).isEqualTo(VmState.CREATED);
        assertThat(record("upsilon").lastError()).isNull();
        assertThat(service.start("upsilon", Call.detached()).state()).isEqualTo("running");
    }

    @Test
    void reconcileSaysACreatedOrStoppedVmWhoseDisksAreIncompleteCannotStart() throws Exception {
        service.create(new VmCreateRequest("phi", null, null, null, null, null, null, true, false), Call.detached());
        Files.delete(record("phi").workDiskPath()); // The daemon died before the work disk was complete.
        create("chi");
        service.stop(new VmStopRequest("chi", true), Call.detached());
        Files.delete(record("chi").rootDiskPath()); // The daemon died while a delete removed the VM's files.

        service.reconcile();

        assertThat(record("phi").state()).isEqualTo(VmState.ERROR);
        assertThat(record("phi").lastError()).contains("disks are incomplete").contains("banger vm delete phi");
        assertThat(record("chi").state()).isEqualTo(VmState.ERROR);
        assertThat(record("chi").lastError()).contains("disks are incomplete").contains("banger vm delete chi");
        Path vmDir = record("phi").vmDir();
        service.delete(new VmDeleteRequest(List.of("phi"), false));
        assertThat(vmDir).as("delete still removes it").doesNotExist();
    }

    /** The VM's record and files as a device-mapper (Firecracker-host) VM has them: a sparse root.cow. */
    private Vm onDeviceMapper(Vm vm) throws IOException {
        Path cow = vm.vmDir().resolve("root.cow");
        try (java.io.RandomAccessFile file = new java.io.RandomAccessFile(cow.toFile(), "rw")) {
            file.setLength(1L << 20);
        }
        Files.delete(vm.rootDiskPath());
        Vm dm = new Vm(vm.id(), vm.name(), vm.state(), vm.vmm(), vm.imageName(), vm.kernelName(), vm.cpus(),
                vm.memoryMib(), vm.diskMib(), vm.guestIp(), vm.mac(), vm.vsockCid(), vm.vmDir(), vm.controlSocket(),
                vm.agentSocket(), vm.logPath(), vm.dnsName(), cow, vm.workDiskPath(), vm.lastError(),
                vm.createdAt(), vm.updatedAt());
        vmStore.delete(vm.id());
        vmStore.insert(dm);
        return dm;
    }

    private static void await(java.util.concurrent.CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private Vm awaitState(String name, VmState state) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (record(name).state() != state && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(record(name).state()).as("state of %s", name).isEqualTo(state);
        return record(name);
    }

    /**
     * Whether the process is still there after waiting up to 10 s for it to go. The fake VMM is this JVM's child:
     * once it exits, the daemon sees it as ended (a zombie counts as exited) while ProcessHandle calls it alive
     * until the JVM's reaper thread has collected it, which under load takes a moment.
     */
    private static boolean aliveAfterWaitingForItToEnd(long pid) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
            if (System.nanoTime() > deadline) {
                return true;
            }
            Thread.sleep(20);
        }
        return false;
    }
}
