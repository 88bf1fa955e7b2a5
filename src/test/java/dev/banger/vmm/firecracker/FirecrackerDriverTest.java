package dev.banger.vmm.firecracker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.banger.guest.AgentClient;
import dev.banger.guest.AgentException;
import dev.banger.guest.AgentInfo;
import dev.banger.guest.AgentTransport;
import dev.banger.guest.ExecProcess;
import dev.banger.guest.ExecSpec;
import dev.banger.guest.ExitStatus;
import dev.banger.guest.RetryPolicy;
import dev.banger.guest.ShutdownAction;
import dev.banger.host.Executables;
import dev.banger.json.Json;
import dev.banger.testkit.VmReaper;
import dev.banger.vmm.DiskSpec;
import dev.banger.vmm.InvalidVmSpecException;
import dev.banger.vmm.NetworkSpec;
import dev.banger.vmm.Snapshot;
import dev.banger.vmm.VmSpec;
import dev.banger.vmm.VmmException;
import dev.banger.vmm.VmmHandle;
import dev.banger.vmm.VmmProcess;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The driver launching the fake Firecracker as a process (a {@code firecracker} script on a private search path
 * that starts {@link FakeFirecrackerMain}): the boot sequence and every body checked against Firecracker's API, stale
 * sockets, fault messages, Ctrl-Alt-Del, liveness, and the agent reached through hybrid vsock. Spec checks that
 * refuse before anything starts need no process.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class FirecrackerDriverTest {

    static final String CMDLINE = "console=ttyS0 quiet panic=-1 banger.root=/dev/vda banger.work=/dev/vdb "
            + "banger.hostname=fc1 banger.agent=serial:banger.agent";
    static final RetryPolicy FAST = new RetryPolicy(Duration.ofMillis(50), Duration.ofSeconds(1),
            Duration.ofSeconds(10));
    /** JVM start-up of the fake on a busy two-core machine, not Firecracker's (which answers in milliseconds). */
    static final Duration START_TIMEOUT = Duration.ofSeconds(45);

    static FirecrackerApiSpec apiSpec;

    @TempDir
    Path dir;

    @RegisterExtension
    final VmReaper reaper = new VmReaper();

    private Path vmDir;
    private Path runDir;

    @BeforeAll
    static void loadApiSpec() {
        apiSpec = FirecrackerApiSpec.load();
    }

    @BeforeEach
    void dirs() throws IOException {
        vmDir = Files.createDirectories(dir.resolve("vm"));
        runDir = Files.createDirectories(dir.resolve("run"));
    }

    /**
     * Runs before the reaper: stops whatever a failed test left, i.e. processes whose command line names this
     * test's directory (the fake's argv carries its socket paths; its guest's carries its guest root).
     */
    @AfterEach
    void killLeftovers() throws Exception {
        String marker = dir.toString();
        List<ProcessHandle> leftovers = ProcessHandle.allProcesses()
                .filter(p -> p.pid() != ProcessHandle.current().pid())
                .filter(p -> p.info().commandLine().map(c -> c.contains(marker)).orElse(false))
                .toList();
        for (ProcessHandle p : leftovers) {
            p.destroyForcibly();
            p.onExit().get(10, TimeUnit.SECONDS);
        }
    }

    private VmSpec spec(Path kernel, List<DiskSpec> disks, Optional<NetworkSpec> network) throws IOException {
        return new VmSpec("fc-test-1", "fc1", 2, 256, kernel, KernelFiles.file(dir.resolve("initrd.img")), CMDLINE,
                disks, runDir.resolve("v.sock"), runDir.resolve("api.sock"), vmDir.resolve("console.log"), vmDir, 3,
                network);
    }

    private VmSpec spec() throws IOException {
        return spec(KernelFiles.elf(dir.resolve("vmlinux")), rawDisks(),
                Optional.of(new NetworkSpec("tap0", "02:FC:00:00:00:01")));
    }

    private List<DiskSpec> rawDisks() throws IOException {
        return List.of(
                new DiskSpec(KernelFiles.file(dir.resolve("root.ext4")), DiskSpec.Format.RAW, false, DiskSpec.Role.ROOT),
                new DiskSpec(KernelFiles.file(dir.resolve("work.ext4")), DiskSpec.Format.RAW, false, DiskSpec.Role.WORK));
    }

    /** @param guest whether InstanceStart boots a modelled guest (the real banger-init, see FakeFirecracker) */
    private FakeFirecrackerInstall install(boolean guest) throws IOException {
        return FakeFirecrackerInstall.create(Files.createDirectories(dir.resolve("fake")), guest,
                List.of("tap0", "tap1"));
    }

    /** A clone's spec: its own VM directory, sockets, disks and tap, the template's kernel, sizes and disk roles. */
    private VmSpec cloneSpec() throws IOException {
        return cloneSpec("tap1");
    }

    private VmSpec cloneSpec(String tap) throws IOException {
        KernelFiles.elf(dir.resolve("vmlinux"));
        KernelFiles.file(dir.resolve("initrd.img"));
        Path cloneDir = Files.createDirectories(dir.resolve("clone"));
        Path cloneRun = Files.createDirectories(dir.resolve("clone-run"));
        return new VmSpec("fc-clone-1", "clone1", 2, 256, dir.resolve("vmlinux"), dir.resolve("initrd.img"),
                CMDLINE, List.of(
                        new DiskSpec(KernelFiles.file(cloneDir.resolve("root.ext4")), DiskSpec.Format.RAW, false,
                                DiskSpec.Role.ROOT),
                        new DiskSpec(KernelFiles.file(cloneDir.resolve("work.ext4")), DiskSpec.Format.RAW, false,
                                DiskSpec.Role.WORK)),
                cloneRun.resolve("v.sock"), cloneRun.resolve("api.sock"), cloneDir.resolve("console.log"), cloneDir,
                7, Optional.of(new NetworkSpec(tap, "02:FC:00:00:00:07")));
    }

    private static void assertEveryBodyMatchesTheApi(List<Map<String, Object>> records) {
        for (Map<String, Object> r : records) {
            String what = r.get("method") + " " + r.get("path");
            apiSpec.bodyType((String) r.get("method"), (String) r.get("path")).ifPresent(type ->
                    assertThat(apiSpec.validate(r.get("body"), type)).as("body of " + what).isEmpty());
        }
    }

    private static List<ProcessHandle> processesNaming(Path path) {
        return ProcessHandle.allProcesses().filter(p -> p.info().commandLine()
                .map(c -> c.contains(path.toString())).orElse(false)).toList();
    }

    /**
     * The whole cycle against the fake: a guest launched for capture, its agent connected; capture pauses it and
     * writes a full snapshot (the open connection is reset); the template process ends; a clone restored from the
     * snapshot with its own disks, tap and sockets runs, and its agent answers on a fresh connection. Every body is
     * checked against the API description, and the load's body field for field.
     */
    @Test
    void captureThenRestore_sendsTheSwaggersBodies_andTheCloneIsAWorkingVm() throws Exception {
        FakeFirecrackerInstall fake = install(true);
        FirecrackerDriver driver = driver(fake);
        Path templateDir = Files.createDirectories(dir.resolve("template"));
        Snapshot snapshot = new Snapshot(templateDir.resolve("memory.ram"), templateDir.resolve("device.state"));
        VmSpec template = spec();

        VmmHandle captured = reaper.track(driver.launchForCapture(template, snapshot));
        AgentClient early = AgentClient.connect(driver.agentTransport(captured), Duration.ofSeconds(20));
        assertThat(early.ping().version()).isNotBlank();
        driver.capture(captured, snapshot);

        assertThat(new FirecrackerApi(captured.controlSocket()).describeInstance().state()).isEqualTo("Paused");
        assertThatThrownBy(early::ping).as("the vsock device is reset at capture: open connections drop")
                .isInstanceOf(AgentException.class).hasMessageContaining("lost");
        early.close();
        assertThat(Files.size(snapshot.memory())).isEqualTo(256L << 20);
        driver.terminate(captured, Duration.ofSeconds(5));
        int templateRequests = recorded(fake).size();
        String memory = FirecrackerApiTest.sha256(snapshot.memory());

        VmSpec clone = cloneSpec();
        VmmHandle restored = reaper.track(driver.restore(clone, snapshot));

        assertThat(driver.isAlive(restored)).isTrue();
        try (AgentClient client = AgentClient.connect(driver.agentTransport(restored), Duration.ofSeconds(20))) {
            ExecProcess p = client.exec(ExecSpec.of("sh", "-c", "echo restored").withoutStdin());
            assertThat(new String(p.stdout().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("restored\n");
            assertThat(p.waitFor(Duration.ofSeconds(20)).exitCode()).isZero();
        }
        List<Map<String, Object>> records = recorded(fake);
        assertEveryBodyMatchesTheApi(records);
        assertThat(records).allSatisfy(r -> assertThat(r.get("status")).as(r.get("method") + " " + r.get("path"))
                .isIn(200L, 204L));
        List<Map<String, Object>> captureRecords = records.subList(0, templateRequests);
        assertThat(body(captureRecords, "/drives/root")).as("a captured guest's drives lead through links")
                .containsEntry("path_on_host", "fc-drives/root");
        assertThat(captureRecords.stream().filter(r -> r.get("method").equals("PATCH")).map(r -> r.get("body")))
                .containsExactly(Map.of("state", "Paused"));
        assertThat(body(captureRecords, "/snapshot/create")).isEqualTo(Map.of("snapshot_type", "Full",
                "snapshot_path", snapshot.deviceState().toString(), "mem_file_path", snapshot.memory().toString()));

        List<Map<String, Object>> restoreRecords = records.subList(templateRequests, records.size());
        assertThat(restoreRecords.stream().filter(r -> !r.get("method").equals("GET")).map(r -> r.get("path")))
                .as("nothing but the logger and metrics before a load")
                .containsExactly("/logger", "/metrics", "/snapshot/load");
        assertThat(body(restoreRecords, "/snapshot/load")).isEqualTo(Map.of(
                "snapshot_path", snapshot.deviceState().toString(),
                "mem_backend", Map.of("backend_type", "File", "backend_path", snapshot.memory().toString()),
                "resume_vm", true,
                "network_overrides", List.of(Map.of("iface_id", "eth0", "host_dev_name", "tap1")),
                "vsock_override", Map.of("uds_path", clone.agentSocket().toString())));
        assertThat(Files.readSymbolicLink(clone.vmDir().resolve("fc-drives/root")))
                .as("the clone opens its own disks").isEqualTo(clone.disks().get(0).path());
        assertThat(Files.readSymbolicLink(clone.vmDir().resolve("fc-drives/work")))
                .isEqualTo(clone.disks().get(1).path());
        assertThat(Files.readString(clone.consoleLog())).contains("restored from " + snapshot.deviceState());
        assertThat(FirecrackerApiTest.sha256(snapshot.memory())).as("the clone never writes the memory file")
                .isEqualTo(memory);

        driver.terminate(restored, Duration.ofSeconds(5));
        assertThat(clone.controlSocket()).doesNotExist();
        assertThat(clone.agentSocket()).doesNotExist();
    }

    /** Firecracker ends itself after a failed load; the driver still kills what is left and removes the sockets. */
    @Test
    void restore_fromMissingFiles_surfacesFirecrackersFault_andLeavesNothingBehind() throws Exception {
        FakeFirecrackerInstall fake = install(false);
        VmSpec clone = cloneSpec();
        Snapshot missing = new Snapshot(dir.resolve("no/memory.ram"), dir.resolve("no/device.state"));

        assertThatThrownBy(() -> driver(fake).restore(clone, missing))
                .isInstanceOf(VmmException.class)
                .hasMessageContaining("Firecracker could not restore VM clone1")
                .hasMessageContaining("Firecracker refused PUT /snapshot/load: Load snapshot error: Failed to restore "
                        + "from snapshot: Failed to get snapshot state from file: Failed to open snapshot file: No "
                        + "such file or directory (os error 2)");

        assertThat(clone.controlSocket()).doesNotExist();
        assertThat(clone.agentSocket()).doesNotExist();
        assertThat(processesNaming(clone.controlSocket())).as("no firecracker is left running").isEmpty();
        assertEveryBodyMatchesTheApi(recorded(fake));
    }

    /** A clone whose tap is missing: the load fails after reading the snapshot, and Firecracker exits. */
    @Test
    void restore_whenTheClonesTapIsMissing_failsAndLeavesNothingBehind() throws Exception {
        FakeFirecrackerInstall fake = install(true);
        FirecrackerDriver driver = driver(fake);
        Path templateDir = Files.createDirectories(dir.resolve("template"));
        Snapshot snapshot = new Snapshot(templateDir.resolve("memory.ram"), templateDir.resolve("device.state"));
        VmmHandle captured = reaper.track(driver.launchForCapture(spec(), snapshot));
        driver.capture(captured, snapshot);
        driver.terminate(captured, Duration.ofSeconds(5));
        VmSpec clone = cloneSpec("tap9");

        assertThatThrownBy(() -> driver.restore(clone, snapshot))
                .isInstanceOf(VmmException.class)
                .hasMessageContaining("Firecracker could not restore VM clone1")
                .hasMessageContaining("Load snapshot error: Failed to restore from snapshot: Failed to build microVM "
                        + "from snapshot: Failed to restore devices:")
                .hasMessageContaining("Invalid TUN/TAP Backend provided by tap9")
                .hasMessageContaining("firecracker said: Error: RunWithApi(BuildMicroVmError(Restore))");

        assertThat(clone.controlSocket()).doesNotExist();
        assertThat(clone.agentSocket()).doesNotExist();
        assertThat(processesNaming(clone.controlSocket())).isEmpty();
    }

    private static FirecrackerDriver driver(FakeFirecrackerInstall install) {
        return new FirecrackerDriver(install.executables(), START_TIMEOUT, FAST);
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> recorded(FakeFirecrackerInstall install) throws IOException {
        List<Map<String, Object>> out = new ArrayList<>();
        for (String line : Files.readAllLines(install.record())) {
            out.add((Map<String, Object>) Json.parseTree(line));
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> body(List<Map<String, Object>> records, String path) {
        return records.stream().filter(r -> r.get("method").equals("PUT") && r.get("path").equals(path))
                .map(r -> (Map<String, Object>) r.get("body")).reduce((a, b) -> b).orElseThrow();
    }

    @Test
    void launch_configuresFirecrackerInOrder_withBodiesTheApiAccepts() throws Exception {
        FakeFirecrackerInstall fake = install(false);
        VmSpec spec = spec();

        VmmHandle handle = reaper.track(driver(fake).launch(spec));

        List<Map<String, Object>> records = recorded(fake);
        assertThat(records.get(0)).containsEntry("method", "GET").containsEntry("path", "/");
        assertThat(records.get(records.size() - 1)).as("the state is read back after InstanceStart")
                .containsEntry("method", "GET").containsEntry("path", "/");
        assertThat(records.stream().filter(r -> r.get("method").equals("PUT")).map(r -> (String) r.get("path")))
                .containsExactly("/logger", "/metrics", "/machine-config", "/boot-source", "/drives/root",
                        "/drives/work", "/network-interfaces/eth0", "/vsock", "/actions");
        for (Map<String, Object> r : records) {
            String what = r.get("method") + " " + r.get("path");
            assertThat(((Number) r.get("status")).intValue()).as(what + " answered").isIn(200, 204);
            apiSpec.bodyType((String) r.get("method"), (String) r.get("path")).ifPresent(type ->
                    assertThat(apiSpec.validate(r.get("body"), type)).as("body of " + what).isEmpty());
        }

        assertThat(body(records, "/machine-config")).isEqualTo(Map.of("vcpu_count", 2L, "mem_size_mib", 256L,
                "smt", false));
        Map<String, Object> boot = body(records, "/boot-source");
        assertThat(boot.get("kernel_image_path")).isEqualTo(dir.resolve("vmlinux").toString());
        assertThat(boot.get("initrd_path")).isEqualTo(dir.resolve("initrd.img").toString());
        assertThat(BootArgs.split((String) boot.get("boot_args")))
                .contains("console=ttyS0", "reboot=k", "pci=off", "panic=-1", "banger.agent=vsock:1024",
                        "banger.halt=reboot",
                        "banger.root=/dev/vda", "banger.hostname=fc1")
                .as("the spec's own panic= wins; the agent moves from serial to vsock")
                .doesNotContain("panic=1", "banger.agent=serial:banger.agent");
        assertThat(body(records, "/drives/root")).isEqualTo(Map.of("drive_id", "root",
                "path_on_host", dir.resolve("root.ext4").toString(), "is_root_device", false, "is_read_only", false));
        assertThat(body(records, "/drives/work")).containsEntry("is_root_device", false)
                .containsEntry("path_on_host", dir.resolve("work.ext4").toString());
        assertThat(body(records, "/network-interfaces/eth0")).isEqualTo(Map.of("iface_id", "eth0",
                "host_dev_name", "tap0", "guest_mac", "02:fc:00:00:00:01"));
        assertThat(body(records, "/vsock")).isEqualTo(Map.of("guest_cid", 3L,
                "uds_path", runDir.resolve("v.sock").toString()));
        assertThat(body(records, "/actions")).isEqualTo(Map.of("action_type", "InstanceStart"));
        assertThat(body(records, "/logger").get("log_path")).isEqualTo(vmDir.resolve("firecracker.log").toString());
        assertThat(body(records, "/metrics").get("metrics_path"))
                .isEqualTo(vmDir.resolve("firecracker.metrics").toString());

        assertThat(handle.controlSocket()).isEqualTo(runDir.resolve("api.sock"));
        assertThat(handle.agentSocket()).isEqualTo(runDir.resolve("v.sock"));
        assertThat(VmmProcess.stat(handle.pid())).hasValueSatisfying(s -> assertThat(s.session())
                .as("firecracker leads its own session (setsid)").isEqualTo(handle.pid()));
        assertThat(Files.readString(vmDir.resolve("console.log")))
                .as("Firecracker's stdout is the serial console log").contains("fake Firecracker guest console");
        assertThat(Files.readString(vmDir.resolve("firecracker.log"))).contains("Running Firecracker");
        driver(fake).terminate(handle, Duration.ofSeconds(5));
    }

    @Test
    void launch_removesStaleApiAndVsockSocketsFirst() throws Exception {
        FakeFirecrackerInstall fake = install(false);
        // What a killed Firecracker leaves: both socket paths exist, and Firecracker refuses to bind either.
        Files.writeString(runDir.resolve("api.sock"), "stale");
        Files.writeString(runDir.resolve("v.sock"), "stale");

        VmmHandle handle = reaper.track(driver(fake).launch(spec()));

        assertThat(driver(fake).isAlive(handle)).isTrue();
        assertThat(recorded(fake)).allSatisfy(r -> assertThat(r.get("status")).isIn(200L, 204L));
        driver(fake).terminate(handle, Duration.ofSeconds(5));
    }

    @Test
    void launch_surfacesFirecrackersFaultMessage_andLeavesNothingBehind() throws Exception {
        FakeFirecrackerInstall fake = install(false);
        VmSpec spec = spec(KernelFiles.elf(dir.resolve("vmlinux")), rawDisks(),
                Optional.of(new NetworkSpec("tap9", "02:fc:00:00:00:09")));

        assertThatThrownBy(() -> driver(fake).launch(spec))
                .isInstanceOf(VmmException.class)
                .hasMessageContaining("Firecracker could not start VM fc1")
                .hasMessageContaining("Firecracker refused PUT /network-interfaces/eth0: Network config error: "
                        + "Could not create the network device: Open tap device failed:")
                .hasMessageContaining("Invalid TUN/TAP Backend provided by tap9");

        assertThat(runDir.resolve("api.sock")).doesNotExist();
        assertThat(runDir.resolve("v.sock")).doesNotExist();
        assertThat(ProcessHandle.allProcesses().filter(p -> p.info().commandLine()
                .map(c -> c.contains(runDir.resolve("api.sock").toString())).orElse(false)))
                .as("the failed firecracker is killed").isEmpty();
        assertThat(recorded(fake)).noneMatch(r -> "/actions".equals(r.get("path")));
    }

    @Test
    void requestPowerdown_sendsCtrlAltDel_andFirecrackerExitsWithTheGuest() throws Exception {
        FakeFirecrackerInstall fake = install(true);
        FirecrackerDriver driver = driver(fake);
        VmmHandle handle = reaper.track(driver.launch(spec()));

        driver.requestPowerdown(handle);

        assertThat(driver.awaitExit(handle, Duration.ofSeconds(20))).isTrue();
        List<Map<String, Object>> records = recorded(fake);
        assertThat(records.get(records.size() - 1)).containsEntry("path", "/actions")
                .containsEntry("body", Map.of("action_type", "SendCtrlAltDel")).containsEntry("status", 204L);
        assertThat(runDir.resolve("api.sock")).as("sockets removed once it is gone").doesNotExist();
        assertThat(runDir.resolve("v.sock")).doesNotExist();
        assertThat(driver.isAlive(handle)).isFalse();
        assertThat(Files.readString(vmDir.resolve("console.log")))
                .as("Ctrl-Alt-Del reached the guest's PID 1, which rebooted")
                .contains("SIGINT (Ctrl-Alt-Del)", "machine: reboot", "reboot: Restarting system");
    }

    /**
     * What {@code vm stop} does first: the agent's shutdown with "poweroff", then a wait for the VMM to exit. On
     * x86 Firecracker a guest power-off only halts, so the guest must reboot instead, or every stop waits out
     * both timeouts and ends in SIGTERM.
     */
    @Test
    void agentShutdown_poweroff_endsFirecrackerPromptly_throughAGuestReboot() throws Exception {
        FakeFirecrackerInstall fake = install(true);
        FirecrackerDriver driver = driver(fake);
        VmmHandle handle = reaper.track(driver.launch(spec()));
        try (AgentClient client = AgentClient.connect(driver.agentTransport(handle), Duration.ofSeconds(20))) {
            client.shutdown(ShutdownAction.POWEROFF);
        }
        long t0 = System.nanoTime();

        assertThat(driver.awaitExit(handle, Duration.ofSeconds(5))).as("Firecracker exited").isTrue();

        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
        assertThat(Files.readString(vmDir.resolve("console.log")))
                .contains("machine: reboot", "banger.halt=reboot", "reboot: Restarting system")
                .doesNotContain("System halted");
        assertThat(recorded(fake)).as("no Ctrl-Alt-Del was needed")
                .noneMatch(r -> Map.of("action_type", "SendCtrlAltDel").equals(r.get("body")));
    }

    @Test
    void isAlive_followsTheProcessAndItsApiSocket_untilTerminate() throws Exception {
        FakeFirecrackerInstall fake = install(false);
        FirecrackerDriver driver = driver(fake);
        VmmHandle handle = reaper.track(driver.launch(spec()));
        assertThat(driver.isAlive(handle)).isTrue();

        VmmHandle otherProcess = new VmmHandle(handle.vmId(), handle.kind(), handle.pid(), handle.startTicks() + 1,
                handle.controlSocket(), handle.agentSocket(), handle.consoleLog());
        assertThat(driver.isAlive(otherProcess)).as("same PID, different start time: a recycled PID").isFalse();

        driver.terminate(handle, Duration.ofSeconds(5));

        assertThat(driver.isAlive(handle)).isFalse();
        assertThat(VmmProcess.running(handle.pid(), handle.startTicks())).isFalse();
        assertThat(runDir.resolve("api.sock")).doesNotExist();
        assertThat(runDir.resolve("v.sock")).doesNotExist();
    }

    @Test
    void isAlive_isFalseWhenTheProcessRunsButItsApiSocketIsGone() throws Exception {
        FakeFirecrackerInstall fake = install(false);
        FirecrackerDriver driver = driver(fake);
        VmmHandle handle = reaper.track(driver.launch(spec()));

        Files.delete(handle.controlSocket());

        assertThat(VmmProcess.running(handle.pid(), handle.startTicks())).isTrue();
        assertThat(driver.isAlive(handle)).as("a PID match alone is not this VM's VMM").isFalse();
        driver.terminate(handle, Duration.ofSeconds(5));
    }

    @Test
    void agentTransport_pingsAndExecsThroughHybridVsock() throws Exception {
        FakeFirecrackerInstall fake = install(true);
        FirecrackerDriver driver = driver(fake);
        VmmHandle handle = reaper.track(driver.launch(spec()));

        AgentTransport transport = driver.agentTransport(handle);
        assertThat(transport.describe()).isEqualTo("vsock:" + runDir.resolve("v.sock") + ":1024");
        try (AgentClient client = AgentClient.connect(transport, Duration.ofSeconds(20))) {
            AgentInfo info = client.ping();
            assertThat(info.version()).isNotBlank();

            ExecProcess p = client.exec(ExecSpec.of("sh", "-c", "echo hello from $0; exit 7", "vsock")
                    .withoutStdin());
            String out = new String(p.stdout().readAllBytes(), StandardCharsets.UTF_8);
            ExitStatus status = p.waitFor(Duration.ofSeconds(20));
            assertThat(out).isEqualTo("hello from vsock\n");
            assertThat(status.exitCode()).isEqualTo(7);
        }
        driver.terminate(handle, Duration.ofSeconds(5));
    }

    @Test
    void launch_refusesABzImage_beforeStartingAnything() throws Exception {
        FakeFirecrackerInstall fake = install(false);
        VmSpec spec = spec(KernelFiles.bzImage(dir.resolve("vmlinuz")), rawDisks(), Optional.empty());

        assertThatThrownBy(() -> driver(fake).launch(spec))
                .isInstanceOf(InvalidVmSpecException.class)
                .hasMessageContaining("is a bzImage, which Firecracker cannot boot")
                .hasMessageContaining("uncompressed ELF vmlinux");
        assertThat(fake.record()).as("no firecracker was started").doesNotExist();
    }

    @Test
    void launch_refusesQcow2DisksAndOtherShapesFirecrackerCannotRun() throws Exception {
        FakeFirecrackerInstall fake = install(false);
        Path work = KernelFiles.file(dir.resolve("work.ext4"));
        Path overlay = KernelFiles.file(dir.resolve("root.qcow2"));
        VmSpec spec = new VmSpec("fc_bad_id", "fc1", 40, 256, KernelFiles.elf(dir.resolve("vmlinux")), null, "",
                List.of(new DiskSpec(work, DiskSpec.Format.RAW, false, DiskSpec.Role.WORK),
                        new DiskSpec(overlay, DiskSpec.Format.QCOW2, false, DiskSpec.Role.ROOT)),
                runDir.resolve("v.sock"), runDir.resolve("api.sock"), vmDir.resolve("console.log"), vmDir, 3,
                Optional.empty());

        assertThatThrownBy(() -> driver(fake).launch(spec))
                .isInstanceOfSatisfying(InvalidVmSpecException.class, e -> assertThat(e.problems()).containsExactly(
                        "Firecracker runs at most 32 vCPUs, got 40",
                        "VM id \"fc_bad_id\" is not a Firecracker instance id (1-64 letters, digits, '-')",
                        "the root disk must be the first disk (the guest mounts /dev/vda as root)",
                        "disk " + overlay + " is qcow2: Firecracker attaches raw images only (a Firecracker VM's root "
                                + "disk is a device-mapper snapshot or a copy, not a qcow2 overlay)"));
        assertThat(fake.record()).doesNotExist();
    }

    @Test
    void launch_withoutFirecrackerInstalled_saysWhatToInstall() throws Exception {
        Path emptyBin = Files.createDirectories(dir.resolve("empty-bin"));
        FirecrackerDriver driver = new FirecrackerDriver(new Executables(emptyBin.toString()), START_TIMEOUT, FAST);

        assertThatThrownBy(() -> driver.launch(spec()))
                .isInstanceOf(VmmException.class)
                .hasMessageStartingWith("Firecracker is not installed: no 'firecracker' program in PATH")
                .hasMessageContaining("https://github.com/firecracker-microvm/firecracker/releases")
                .hasMessageContaining("--vmm qemu");
        assertThat(runDir.resolve("api.sock")).doesNotExist();
    }
}
