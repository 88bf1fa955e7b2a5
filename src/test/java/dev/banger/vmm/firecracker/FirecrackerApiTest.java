package dev.banger.vmm.firecracker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.banger.guest.AgentClient;
import dev.banger.guest.FirecrackerVsockTransport;
import dev.banger.guest.RetryPolicy;
import dev.banger.guest.ShutdownAction;
import dev.banger.json.Json;
import dev.banger.testkit.AgentProcess;
import dev.banger.vmm.VmmException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * The typed API client against the fake Firecracker in this JVM: calls that succeed, Firecracker's fault messages
 * surfaced verbatim, and the fake answering what Firecracker's API description says Firecracker answers.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class FirecrackerApiTest {

    static FirecrackerApiSpec apiSpec;

    @TempDir
    Path dir;

    private FakeFirecracker fake;
    private FirecrackerApi api;
    private final CountDownLatch guestExited = new CountDownLatch(1);
    private Path kernel;
    private Path initrd;
    private Path rootDisk;
    private Path logFile;
    private Path metricsFile;

    @BeforeAll
    static void loadApiSpec() {
        apiSpec = FirecrackerApiSpec.load();
    }

    @BeforeEach
    void start() throws Exception {
        kernel = KernelFiles.elf(dir.resolve("vmlinux"));
        initrd = KernelFiles.file(dir.resolve("initrd.img"));
        rootDisk = KernelFiles.file(dir.resolve("root.ext4"));
        logFile = dir.resolve("firecracker.log");
        metricsFile = dir.resolve("firecracker.metrics");
        fake = FakeFirecracker.start(new FakeFirecracker.Options(dir.resolve("api.sock"), "vm-1", apiSpec, null,
                AgentProcess.binary(), Files.createDirectories(dir.resolve("guest")), Set.of("tap0"), null,
                code -> guestExited.countDown()));
        api = new FirecrackerApi(dir.resolve("api.sock"), Duration.ofSeconds(5));
    }

    @AfterEach
    void stop() {
        if (fake != null) {
            fake.close();
        }
    }

    private void configureAll() {
        configureAll("console=ttyS0");
    }

    private void configureAll(String bootArgs) {
        api.putLogger(new FirecrackerApi.Logger(logFile.toString(), "Warning", true, false));
        api.putMetrics(new FirecrackerApi.Metrics(metricsFile.toString()));
        api.putMachineConfig(new FirecrackerApi.MachineConfiguration(2, 256, false));
        api.putBootSource(new FirecrackerApi.BootSource(kernel.toString(), initrd.toString(), bootArgs));
        api.putDrive(new FirecrackerApi.Drive("root", rootDisk.toString(), false, false));
        api.putNetworkInterface(new FirecrackerApi.NetworkInterface("eth0", "tap0", "02:fc:00:00:00:01"));
        api.putVsock(new FirecrackerApi.Vsock(3, dir.resolve("v.sock").toString()));
    }

    @Test
    void typedCalls_configureAndStartTheInstance() {
        assertThat(api.describeInstance()).isEqualTo(new FirecrackerApi.InstanceInfo("Firecracker", "vm-1",
                "Not started", FakeFirecracker.VERSION));

        configureAll();
        api.instanceStart();

        assertThat(api.describeInstance().running()).isTrue();
        assertThat(fake.requests()).allSatisfy(r -> assertThat(r.status()).as(r.method() + " " + r.path())
                .isIn(200, 204));
        assertThat(Files.exists(dir.resolve("v.sock"))).as("Firecracker binds uds_path at PUT /vsock").isTrue();
    }

    @Test
    void everyRequestBodyAndAnswerMatchesTheApiDescription() {
        configureAll();
        api.instanceStart();
        assertThatThrownBy(api::instanceStart).isInstanceOf(FirecrackerApiException.class);

        for (FakeFirecracker.Recorded r : fake.requests()) {
            apiSpec.bodyType(r.method(), r.path()).ifPresent(type -> assertThat(apiSpec.validate(r.body(), type))
                    .as("body of " + r.method() + " " + r.path()).isEmpty());
            assertThat(apiSpec.answer(r.method(), r.path(), r.status()))
                    .as("the API declares status " + r.status() + " for " + r.method() + " " + r.path()).isPresent();
            if (r.status() >= 400) {
                assertThat(apiSpec.validate(Map.of("fault_message", r.fault()), "Error")).isEmpty();
            }
        }
        assertThat(apiSpec.validate(Json.toTree(api.describeInstance()), "InstanceInfo")).isEmpty();
    }

    @Test
    void instanceStart_withoutBootSource_surfacesFirecrackersFaultMessage() {
        api.putMachineConfig(new FirecrackerApi.MachineConfiguration(1, 128, null));

        assertThatThrownBy(api::instanceStart)
                .isInstanceOfSatisfying(FirecrackerApiException.class, e -> {
                    assertThat(e.status()).isEqualTo(400);
                    assertThat(e.method()).isEqualTo("PUT");
                    assertThat(e.path()).isEqualTo("/actions");
                    assertThat(e.faultMessage())
                            .isEqualTo("Start microvm error: Cannot start microvm without kernel configuration.");
                })
                .hasMessage("Firecracker refused PUT /actions: Start microvm error: Cannot start microvm without "
                        + "kernel configuration.");
    }

    @Test
    void instanceStart_withoutMachineConfig_usesFirecrackersDefaults() {
        api.putBootSource(new FirecrackerApi.BootSource(kernel.toString(), null, null));
        api.instanceStart();
        assertThat(api.describeInstance().state()).isEqualTo("Running");
    }

    @Test
    void preBootOnlyEndpoints_andASecondInstanceStart_areRefusedAfterStart() {
        configureAll();
        api.instanceStart();

        List<Executable> preBootOnly = List.of(
                () -> api.putMachineConfig(new FirecrackerApi.MachineConfiguration(1, 128, false)),
                () -> api.putBootSource(new FirecrackerApi.BootSource(kernel.toString(), null, null)),
                () -> api.putDrive(new FirecrackerApi.Drive("work", rootDisk.toString(), false, false)),
                () -> api.putNetworkInterface(new FirecrackerApi.NetworkInterface("eth1", "tap0", null)),
                () -> api.putVsock(new FirecrackerApi.Vsock(4, dir.resolve("v2.sock").toString())),
                () -> api.putLogger(new FirecrackerApi.Logger(logFile.toString(), null, null, null)),
                () -> api.putMetrics(new FirecrackerApi.Metrics(metricsFile.toString())),
                api::instanceStart);
        for (Executable call : preBootOnly) {
            assertThatThrownBy(call::execute).isInstanceOfSatisfying(FirecrackerApiException.class, e ->
                    assertThat(e.faultMessage()).isEqualTo(FakeFirecracker.POST_BOOT));
        }
        assertThat(api.describeInstance().running()).isTrue();
    }

    @Test
    void sendCtrlAltDel_isRefusedBeforeStartAndEndsTheInstanceAfter() throws Exception {
        assertThatThrownBy(api::sendCtrlAltDel).isInstanceOfSatisfying(FirecrackerApiException.class, e ->
                assertThat(e.faultMessage()).isEqualTo(FakeFirecracker.PRE_BOOT));
        configureAll();
        api.instanceStart();

        api.sendCtrlAltDel();

        assertThat(guestExited.await(5, TimeUnit.SECONDS)).as("the guest reboots and Firecracker exits").isTrue();
        assertThat(fake.guestState()).isEqualTo(FakeFirecracker.GuestState.REBOOTED);
    }

    @Test
    void sendCtrlAltDel_isLostOnAGuestBootedWithI8042Nopnp() throws Exception {
        // Firecracker's guests have ACPI; with i8042.nopnp the kernel skips the keyboard ACPI describes.
        configureAll("console=ttyS0 reboot=k i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd");
        api.instanceStart();

        api.sendCtrlAltDel();

        assertThat(guestExited.await(2, TimeUnit.SECONDS)).as("no key press arrives, nothing exits").isFalse();
        assertThat(fake.guestState()).isEqualTo(FakeFirecracker.GuestState.RUNNING);
        assertThat(api.describeInstance().running()).isTrue();
    }

    @Test
    void aGuestThatPowersOff_haltsAndLeavesFirecrackerRunning() throws Exception {
        // No banger.halt=reboot: banger-init powers off, as it does under QEMU, and x86 Firecracker cannot.
        configureAll("console=ttyS0 reboot=k panic=1");
        api.instanceStart();
        RetryPolicy retry = new RetryPolicy(Duration.ofMillis(50), Duration.ofSeconds(1), Duration.ofSeconds(10));
        try (AgentClient client = AgentClient.connect(new FirecrackerVsockTransport(dir.resolve("v.sock"),
                FakeFirecracker.AGENT_PORT, retry), Duration.ofSeconds(10))) {
            client.shutdown(ShutdownAction.POWEROFF);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (fake.guestState() == FakeFirecracker.GuestState.RUNNING && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(fake.guestState()).isEqualTo(FakeFirecracker.GuestState.HALTED);

        api.sendCtrlAltDel();

        assertThat(guestExited.await(1, TimeUnit.SECONDS)).as("a halted guest never reboots").isFalse();
        assertThat(api.describeInstance().running()).as("the process and its API stay").isTrue();
    }

    @Test
    void firecrackerCreatesItsLogAndMetricsFiles_inAnExistingDirectory() throws Exception {
        api.putLogger(new FirecrackerApi.Logger(logFile.toString(), "Warning", true, false));
        api.putMetrics(new FirecrackerApi.Metrics(metricsFile.toString()));

        assertThat(logFile).isRegularFile();
        assertThat(metricsFile).isRegularFile();
    }

    @Test
    void filesAreCheckedAsFirecrackerOpensThem() throws Exception {
        Path missing = dir.resolve("missing-dir/missing");
        assertThatThrownBy(() -> api.putLogger(new FirecrackerApi.Logger(missing.toString(), null, null, null)))
                .hasMessageStartingWith("Firecracker refused PUT /logger: Logger error: Failed to open target file");
        assertThatThrownBy(() -> api.putMetrics(new FirecrackerApi.Metrics(missing.toString())))
                .hasMessageStartingWith("Firecracker refused PUT /metrics: Metrics error:");
        assertThatThrownBy(() -> api.putBootSource(new FirecrackerApi.BootSource(missing.toString(), null, null)))
                .hasMessageStartingWith("Firecracker refused PUT /boot-source: Boot source error: The kernel file "
                        + "cannot be opened");
        assertThatThrownBy(() -> api.putDrive(new FirecrackerApi.Drive("root", missing.toString(), false, false)))
                .hasMessageStartingWith("Firecracker refused PUT /drives/root: Drive config error:");
        Files.writeString(dir.resolve("stale.sock"), "");
        assertThatThrownBy(() -> api.putVsock(new FirecrackerApi.Vsock(3, dir.resolve("stale.sock").toString())))
                .hasMessageContaining("Vsock config error: Cannot create backend for vsock device")
                .hasMessageContaining("AddrInUse");
        assertThatThrownBy(() -> api.putNetworkInterface(new FirecrackerApi.NetworkInterface("eth0", "tap9", null)))
                .hasMessageContaining("Invalid TUN/TAP Backend provided by tap9");
    }

    @Test
    void badBodies_areRefusedWithSerdesWording() throws Exception {
        UnixHttpClient raw = new UnixHttpClient(dir.resolve("api.sock"));
        Map<String, String> cases = Map.of(
                "{\"kernel_image_path\":\"" + kernel + "\",\"root\":\"/dev/vda\"}",
                "unknown field `root`, expected one of `boot_args`, `initrd_path`, `kernel_image_path`",
                "{\"boot_args\":\"quiet\"}", "missing field `kernel_image_path`",
                "{\"kernel_image_path\":42}", "invalid type: integer `42`, expected a string",
                "{\"kernel_image_path\":", "");
        for (Map.Entry<String, String> c : cases.entrySet()) {
            HttpResponse r = raw.send("PUT", "/boot-source", c.getKey().getBytes(StandardCharsets.UTF_8),
                    Duration.ofSeconds(5));
            assertThat(r.status()).isEqualTo(400);
            Object fault = ((Map<?, ?>) Json.parseTree(r.bodyText())).get("fault_message");
            assertThat((String) fault).startsWith(FakeFirecracker.SERDE).contains(c.getValue());
            assertThat(apiSpec.validate(Json.parseTree(r.bodyText()), "Error")).isEmpty();
        }
        HttpResponse mismatch = raw.send("PUT", "/drives/root", Json.writeBytes(
                new FirecrackerApi.Drive("work", rootDisk.toString(), false, false)), Duration.ofSeconds(5));
        assertThat(mismatch.bodyText()).contains("The id from the path does not match the id from the body!");
        assertThat(raw.send("PUT", "/nonsense", "{}".getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(5))
                .bodyText()).contains("Invalid request method and/or path: PUT nonsense.");
    }

    private static void assertRefused(org.assertj.core.api.ThrowableAssert.ThrowingCallable call, String path,
                                      String fault) {
        assertThatThrownBy(call).isInstanceOfSatisfying(FirecrackerApiException.class, e -> {
            assertThat(e.status()).isEqualTo(400);
            assertThat(e.path()).isEqualTo(path);
            assertThat(e.faultMessage()).isEqualTo(fault);
        });
    }

    private FirecrackerApi.SnapshotLoadParams load(Path state, Path memory, String vsockPath) {
        return new FirecrackerApi.SnapshotLoadParams(state.toString(),
                new FirecrackerApi.MemoryBackend("File", memory.toString()), true, null,
                vsockPath == null ? null : new FirecrackerApi.VsockOverride(vsockPath));
    }

    static String sha256(Path file) throws Exception {
        java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
        try (java.io.InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 16];
            for (int n = in.read(buf); n > 0; n = in.read(buf)) {
                md.update(buf, 0, n);
            }
        }
        return java.util.HexFormat.of().formatHex(md.digest());
    }

    /** A second fake in this JVM on {@code name}.sock, for loads (which need a fresh process). */
    private FakeFirecracker second(String name, CountDownLatch exited) throws Exception {
        return FakeFirecracker.start(new FakeFirecracker.Options(dir.resolve(name + ".sock"), name, apiSpec, null,
                AgentProcess.binary(), Files.createDirectories(dir.resolve(name + "-guest")), Set.of("tap0", "tap1"),
                null, code -> exited.countDown()));
    }

    @Test
    void pauseAndSnapshotCreate_followFirecrackersRules() throws Exception {
        Path state = dir.resolve("vm.state");
        Path memory = dir.resolve("memory.ram");
        FirecrackerApi.SnapshotCreateParams create = new FirecrackerApi.SnapshotCreateParams("Full", state.toString(),
                memory.toString());
        assertRefused(api::pause, "/vm", FakeFirecracker.PRE_BOOT);
        assertRefused(() -> api.createSnapshot(create), "/snapshot/create", FakeFirecracker.PRE_BOOT);
        configureAll();
        api.instanceStart();

        assertRefused(() -> api.createSnapshot(create), "/snapshot/create",
                "Create snapshot error: Cannot save the microVM state: Operation not allowed: save/restore "
                        + "unavailable while running");
        assertThat(state).as("a refused create writes nothing").doesNotExist();

        api.pause();
        api.pause();
        assertThat(api.describeInstance().state()).isEqualTo("Paused");
        assertRefused(() -> api.createSnapshot(new FirecrackerApi.SnapshotCreateParams(null,
                dir.resolve("no-such-dir/vm.state").toString(), memory.toString())), "/snapshot/create",
                "Create snapshot error: Cannot perform open on the snapshot backing file: No such file or "
                        + "directory (os error 2)");
        api.createSnapshot(create);

        assertThat(Files.size(memory)).as("a full snapshot holds all guest memory").isEqualTo(256L << 20);
        assertThat(Files.size(state)).isPositive();
        api.resume();
        assertThat(api.describeInstance().running()).isTrue();
        for (FakeFirecracker.Recorded r : fake.requests()) {
            apiSpec.bodyType(r.method(), r.path()).ifPresent(type -> assertThat(apiSpec.validate(r.body(), type))
                    .as("body of " + r.method() + " " + r.path()).isEmpty());
            assertThat(apiSpec.answer(r.method(), r.path(), r.status())).isPresent();
        }
    }

    @Test
    void snapshotLoad_isRefusedAfterBootConfigurationAndAfterStart_butNotAfterLoggerAndMetrics() throws Exception {
        Path state = KernelFiles.file(dir.resolve("vm.state"));
        Path memory = KernelFiles.file(dir.resolve("memory.ram"));
        api.putMachineConfig(new FirecrackerApi.MachineConfiguration(2, 256, false));

        assertRefused(() -> api.loadSnapshot(load(state, memory, null)), "/snapshot/load",
                "Load snapshot error: Loading a microVM snapshot not allowed after configuring boot-specific "
                        + "resources.");
        assertThat(guestExited.getCount()).as("that refusal is not fatal").isEqualTo(1);
        api.putBootSource(new FirecrackerApi.BootSource(kernel.toString(), null, null));
        api.instanceStart();
        assertRefused(() -> api.loadSnapshot(load(state, memory, null)), "/snapshot/load", FakeFirecracker.POST_BOOT);

        UnixHttpClient raw = new UnixHttpClient(dir.resolve("api.sock"));
        CountDownLatch exited = new CountDownLatch(1);
        try (FakeFirecracker fresh = second("fresh", exited)) {
            UnixHttpClient freshRaw = new UnixHttpClient(dir.resolve("fresh.sock"));
            Map<String, String> cases = Map.of(
                    "{\"snapshot_path\":\"" + state + "\"}", FakeFirecracker.LOAD_MISSING_FIELD,
                    "{\"snapshot_path\":\"" + state + "\",\"mem_file_path\":\"" + memory + "\",\"mem_backend\":"
                            + "{\"backend_type\":\"File\",\"backend_path\":\"" + memory + "\"}}",
                    FakeFirecracker.LOAD_TOO_MANY_FIELDS,
                    "{\"snapshot_path\":\"" + state + "\",\"mem_backend\":{\"backend_type\":\"Disk\","
                            + "\"backend_path\":\"" + memory + "\"}}", "unknown variant `Disk`",
                    "{\"mem_backend\":{\"backend_type\":\"File\",\"backend_path\":\"" + memory + "\"}}",
                    "missing field `snapshot_path`");
            for (Map.Entry<String, String> c : cases.entrySet()) {
                HttpResponse r = freshRaw.send("PUT", "/snapshot/load", c.getKey().getBytes(StandardCharsets.UTF_8),
                        Duration.ofSeconds(5));
                assertThat(r.status()).as(c.getKey()).isEqualTo(400);
                assertThat((String) ((Map<?, ?>) Json.parseTree(r.bodyText())).get("fault_message"))
                        .startsWith(FakeFirecracker.SERDE).contains(c.getValue());
            }
            assertThat(exited.getCount()).as("bodies that do not deserialize are not fatal").isEqualTo(1);

            FirecrackerApi f = new FirecrackerApi(dir.resolve("fresh.sock"), Duration.ofSeconds(5));
            f.putLogger(new FirecrackerApi.Logger(dir.resolve("fresh.log").toString(), null, null, null));
            f.putMetrics(new FirecrackerApi.Metrics(dir.resolve("fresh.metrics").toString()));
            assertThatThrownBy(() -> f.loadSnapshot(load(state, memory, null)))
                    .as("the logger and metrics do not stop a load; a file that is no snapshot ends the process")
                    .hasMessageContaining("Load snapshot error: Failed to restore from snapshot: Failed to get "
                            + "snapshot state from file: Failed to load snapshot state from file");
            assertThat(exited.await(5, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(raw.send("GET", "/", null, Duration.ofSeconds(5)).status()).isEqualTo(200);
    }

    @Test
    void snapshotLoad_ofMissingFiles_isFatal_andARoundTripRestoresTheGuestBehindNewSockets() throws Exception {
        Path state = dir.resolve("vm.state");
        Path memory = dir.resolve("memory.ram");
        configureAll("console=ttyS0 banger.agent=vsock:1024");
        api.instanceStart();
        api.pause();
        api.createSnapshot(new FirecrackerApi.SnapshotCreateParams("Full", state.toString(), memory.toString()));
        fake.close();

        CountDownLatch exited = new CountDownLatch(1);
        try (FakeFirecracker broken = second("broken", exited)) {
            FirecrackerApi b = new FirecrackerApi(dir.resolve("broken.sock"), Duration.ofSeconds(5));
            assertRefused(() -> b.loadSnapshot(load(dir.resolve("nothing.state"), memory, null)), "/snapshot/load",
                    "Load snapshot error: Failed to restore from snapshot: Failed to get snapshot state from file: "
                            + "Failed to open snapshot file: No such file or directory (os error 2)");
            assertThat(exited.await(5, TimeUnit.SECONDS)).as("Firecracker exits after a failed load").isTrue();
        }
        CountDownLatch exited2 = new CountDownLatch(1);
        try (FakeFirecracker broken = second("broken2", exited2)) {
            FirecrackerApi b = new FirecrackerApi(dir.resolve("broken2.sock"), Duration.ofSeconds(5));
            assertRefused(() -> b.loadSnapshot(load(state, dir.resolve("nothing.ram"), null)), "/snapshot/load",
                    "Load snapshot error: Failed to restore from snapshot: Failed to load guest memory: Error "
                            + "creating guest memory from file: Failed to load guest memory: No such file or "
                            + "directory (os error 2)");
            assertThat(exited2.await(5, TimeUnit.SECONDS)).isTrue();
        }
        CountDownLatch exited3 = new CountDownLatch(1);
        try (FakeFirecracker broken = second("broken3", exited3)) {
            FirecrackerApi b = new FirecrackerApi(dir.resolve("broken3.sock"), Duration.ofSeconds(5));
            assertRefused(() -> b.loadSnapshot(new FirecrackerApi.SnapshotLoadParams(state.toString(),
                    new FirecrackerApi.MemoryBackend("File", memory.toString()), true,
                    List.of(new FirecrackerApi.NetworkOverride("eth9", "tap1")), null)), "/snapshot/load",
                    "Load snapshot error: Failed to restore from snapshot: Failed to get snapshot state from file: "
                            + "Unknown Network Device.");
            assertThat(exited3.await(5, TimeUnit.SECONDS)).isTrue();
        }

        String memoryBefore = sha256(memory);
        CountDownLatch exited4 = new CountDownLatch(1);
        try (FakeFirecracker clone = second("clone", exited4)) {
            FirecrackerApi c = new FirecrackerApi(dir.resolve("clone.sock"), Duration.ofSeconds(5));
            Path cloneVsock = dir.resolve("clone-v.sock");
            c.putLogger(new FirecrackerApi.Logger(dir.resolve("clone.log").toString(), null, null, null));
            c.loadSnapshot(new FirecrackerApi.SnapshotLoadParams(state.toString(),
                    new FirecrackerApi.MemoryBackend("File", memory.toString()), true,
                    List.of(new FirecrackerApi.NetworkOverride("eth0", "tap1")),
                    new FirecrackerApi.VsockOverride(cloneVsock.toString())));

            assertThat(c.describeInstance().running()).isTrue();
            assertRefused(c::instanceStart, "/actions", FakeFirecracker.POST_BOOT);
            try (AgentClient agent = AgentClient.connect(new FirecrackerVsockTransport(cloneVsock, 1024,
                    new RetryPolicy(Duration.ofMillis(50), Duration.ofSeconds(1), Duration.ofSeconds(10))),
                    Duration.ofSeconds(10))) {
                assertThat(agent.ping().version()).isNotBlank();
            }
            for (FakeFirecracker.Recorded r : clone.requests()) {
                apiSpec.bodyType(r.method(), r.path()).ifPresent(type -> assertThat(apiSpec.validate(r.body(), type))
                        .as("body of " + r.method() + " " + r.path()).isEmpty());
            }
        }
        assertThat(sha256(memory)).as("a restore never writes the memory file").isEqualTo(memoryBefore);
    }

    @Test
    void anUnreachableSocket_isAVmmExceptionNamingIt() {
        FirecrackerApi nowhere = new FirecrackerApi(dir.resolve("nothing.sock"), Duration.ofSeconds(1));
        assertThatThrownBy(nowhere::describeInstance)
                .isInstanceOf(VmmException.class)
                .isNotInstanceOf(FirecrackerApiException.class)
                .hasMessageContaining("cannot reach Firecracker's API socket")
                .hasMessageContaining(dir.resolve("nothing.sock").toString());
    }
}
