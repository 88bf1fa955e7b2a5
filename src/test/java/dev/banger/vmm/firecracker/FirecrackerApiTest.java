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
                guestExited::countDown));
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
