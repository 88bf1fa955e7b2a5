package dev.banger.vm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.banger.api.TemplateView;
import dev.banger.api.VmCreateRequest;
import dev.banger.api.VmDeleteRequest;
import dev.banger.api.VmView;
import dev.banger.guest.ExecSpec;
import dev.banger.guest.RetryPolicy;
import dev.banger.json.Json;
import dev.banger.model.Vm;
import dev.banger.testkit.RecordingCall;
import dev.banger.vmm.DiskSpec;
import dev.banger.vmm.NetworkSpec;
import dev.banger.vmm.Snapshot;
import dev.banger.vmm.VmSpec;
import dev.banger.vmm.VmmHandle;
import dev.banger.vmm.firecracker.FakeFirecrackerInstall;
import dev.banger.vmm.firecracker.FirecrackerApiSpec;
import dev.banger.vmm.firecracker.FirecrackerDriver;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Templates of Firecracker VMs (docs/snapshots.md), end to end through the VM service against the fake Firecracker
 * (a process per VMM, validating every body against Firecracker's API and modelling the guest with a real
 * banger-init): the first VM boots and a template is built after it with a raw root disk; the next VM restores
 * from it with its own copy of that disk; a template whose load fails is discarded and the VM boots instead; what a
 * daemon killed during a build left is cleared.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class FirecrackerTemplateTest {

    private static final RetryPolicy FAST = new RetryPolicy(Duration.ofMillis(50), Duration.ofSeconds(1),
            Duration.ofSeconds(10));
    /** JVM start-up of the fake on a busy two-core machine, not Firecracker's. */
    private static final Duration START_TIMEOUT = Duration.ofSeconds(45);

    private static FirecrackerApiSpec api;

    @TempDir
    Path tmp;

    private FakeFirecrackerInstall firecracker;
    private FirecrackerDriver driver;
    private FakeHost host;

    @BeforeAll
    static void loadApi() {
        api = FirecrackerApiSpec.load();
    }

    @BeforeEach
    void setUp() throws IOException {
        firecracker = FakeFirecrackerInstall.create(Files.createDirectories(tmp.resolve("fc")), true,
                List.of("bt*"));
        driver = new FirecrackerDriver(firecracker.executables(), START_TIMEOUT, FAST);
        host = FakeHost.withFirecracker(tmp.resolve("host"), driver, 60);
    }

    @AfterEach
    void tearDown() throws Exception {
        try {
            awaitNoTemplateBuild();
            List<String> names = host.vmStore.list().stream().map(Vm::name).toList();
            if (!names.isEmpty()) {
                host.lifecycle.delete(new VmDeleteRequest(names, true));
            }
        } finally {
            host.close();
        }
    }

    @Test
    void aFirecrackerTemplateHoldsARawDiskAndAClonesRestoresFromItsOwnCopy() throws Exception {
        Path digests = host.paths.templatesDir().resolve("digests.json");
        assertThat(digests).as("nothing hashed yet").doesNotExist();
        assertThat(create("first").started()).startsWith("booting");
        TemplateView template = awaitTemplate();
        assertThat(Files.readString(digests)).as("the image hashed for the template, after the boot")
                .contains(host.running.imageOf(host.record("first")).rootfsPath().toString());
        assertThat(template.vmm()).isEqualTo("firecracker");
        assertThat(template.current()).isTrue();
        Path dir = host.paths.templatesDir().resolve(template.id());
        Path rootDisk = dir.resolve("root.img");
        assertThat(fileNames(dir)).as("what a restore reads, the console, nothing of the build's VMM")
                .containsExactlyInAnyOrder("template.json", "memory.ram", "device.state", "root.img", "kernel",
                        "initrd.img", "console.log");
        assertThat(Files.readString(dir.resolve("template.json"))).contains("\"rootDiskFile\": \"root.img\"");
        assertThat(sha256(rootDisk)).as("a raw disk: the image as the template's guest left it")
                .isEqualTo(sha256(host.running.imageOf(host.record("first")).rootfsPath()));
        Map<?, ?> snapshot = (Map<?, ?>) Json.parseTree(Files.readString(dir.resolve("device.state")));
        assertThat(((List<?>) snapshot.get("drives")).stream().map(d -> (Object) ((Map<?, ?>) d).get("path_on_host")))
                .as("the snapshot names the drives by links a clone makes in its own directory")
                .containsExactly("fc-drives/root", "fc-drives/work");
        Map<String, String> before = new java.util.LinkedHashMap<>();
        for (String f : List.of("root.img", "memory.ram", "device.state")) {
            before.put(f, sha256(dir.resolve(f)));
        }

        RecordingCall call = new RecordingCall();
        VmView clone = host.lifecycle.create(request("clone"), call);

        assertThat(clone.started()).startsWith("restoring from template " + template.id().substring(0, 12));
        Vm vm = host.record("clone");
        assertThat(vm.rootDiskPath()).isEqualTo(vm.vmDir().resolve("root.img"));
        assertThat(sha256(vm.rootDiskPath())).isEqualTo(before.get("root.img"));
        assertThat(Files.isSameFile(vm.rootDiskPath(), rootDisk)).isFalse();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(vm.rootDiskPath())))
                .isEqualTo("rw-------");
        assertThat(Files.readSymbolicLink(vm.vmDir().resolve("fc-drives/root"))).isEqualTo(vm.rootDiskPath());
        assertThat(Files.readSymbolicLink(vm.vmDir().resolve("fc-drives/work"))).isEqualTo(vm.workDiskPath());
        assertThat(exec(vm, "echo", "restored")).isEqualTo("restored\n");
        for (Map.Entry<String, String> f : before.entrySet()) {
            assertThat(sha256(dir.resolve(f.getKey()))).as(f.getKey() + " unchanged").isEqualTo(f.getValue());
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve(f.getKey()))))
                    .as(f.getKey() + " read-only").isEqualTo("r--r-----");
        }

        List<Map<String, Object>> requests = recorded();
        assertEveryBodyMatchesTheApi(requests);
        int pause = indexOf(requests, "PATCH", "/vm", 204);
        int create = indexOf(requests, "PUT", "/snapshot/create", 204);
        int load = indexOf(requests, "PUT", "/snapshot/load", 204);
        assertThat(pause).isNotNegative().isLessThan(create);
        assertThat(create).isLessThan(load);
        assertThat(requests.get(pause).get("body")).isEqualTo(Map.of("state", "Paused"));
        Map<?, ?> created = (Map<?, ?>) requests.get(create).get("body");
        assertThat(created.get("snapshot_type")).isEqualTo("Full");
        assertThat((String) created.get("snapshot_path")).contains("/.building-").endsWith("/device.state");
        assertThat((String) created.get("mem_file_path")).contains("/.building-").endsWith("/memory.ram");
        assertThat(requests.get(load).get("body")).isEqualTo(Map.of(
                "snapshot_path", dir.resolve("device.state").toString(),
                "mem_backend", Map.of("backend_type", "File", "backend_path", dir.resolve("memory.ram").toString()),
                "resume_vm", true,
                "network_overrides", List.of(Map.of("iface_id", "eth0", "host_dev_name", host.tap("clone"))),
                "vsock_override", Map.of("uds_path", vm.agentSocket().toString())));
        assertThat(requests.subList(load + 1, requests.size()).stream().filter(r -> !r.get("method").equals("GET")))
                .as("nothing after the load configures the clone: it runs on from the capture")
                .isEmpty();
    }

    @Test
    void aTemplateWhoseLoadFailsIsDiscardedAndTheVmBootsWithNothingLeftOfTheRestore() throws Exception {
        create("first");
        TemplateView template = awaitTemplate();
        Path dir = host.paths.templatesDir().resolve(template.id());
        Path state = dir.resolve("device.state");
        Files.setPosixFilePermissions(state, PosixFilePermissions.fromString("rw-------"));
        Files.writeString(state, "{\"not\": \"a snapshot\"}");
        host.ip.clear();

        RecordingCall call = new RecordingCall();
        VmView second = host.lifecycle.create(request("second"), call);

        assertThat(second.state()).isEqualTo("running");
        assertThat(second.started()).startsWith("booting");
        assertThat(call.progressDetails()).anySatisfy(d -> assertThat(d)
                .startsWith("restoring from the template failed (")
                .contains("Firecracker refused PUT /snapshot/load")
                .contains("not a snapshot this fake Firecracker wrote")
                .endsWith("); booting instead"));
        List<Map<String, Object>> requests = recorded();
        assertEveryBodyMatchesTheApi(requests);
        assertThat(indexOf(requests, "PUT", "/snapshot/load", 400)).isNotNegative();
        Vm vm = host.record("second");
        assertThat(host.ip.commandLines()).as("the failed restore's tap went before the boot made it again")
                .containsSubsequence("ip link del " + host.tap("second"), "ip tuntap add dev " + host.tap("second")
                        + " mode tap");
        assertThat(processesNaming(vm.controlSocket())).as("one firecracker for the VM: the booted one")
                .containsExactly(second.pid());
        assertThat(sha256(vm.rootDiskPath())).as("booted from a fresh copy of the image")
                .isEqualTo(sha256(host.running.imageOf(vm).rootfsPath()));
        assertThat(fileNames(vm.vmDir())).noneMatch(f -> f.endsWith(".tmp"));
        assertThat(exec(vm, "echo", "booted")).isEqualTo("booted\n");

        awaitNoTemplateBuild();
        assertThat(fileNames(host.paths.templatesDir())).as("the bad template went; the boot built it again")
                .containsExactlyInAnyOrder(template.id(), "digests.json");
        assertThat(Files.readString(state)).as("rebuilt").contains("fake_firecracker_snapshot");
    }

    @Test
    void theFirecrackerOfABuildAKilledDaemonLeftIsEndedWithItsRuntimeDirAndPartialTemplate() throws Exception {
        String id = TemplateBuilder.ID_PREFIX + "0123456789a";
        Path runtime = Files.createDirectories(host.paths.vmRuntimeDir(id));
        Path build = Files.createDirectories(host.paths.templatesDir().resolve(".building-0123456789abcdef-12345678"));
        Path kernel = host.paths.kernelsDir().resolve("k/vmlinux");
        VmSpec spec = new VmSpec(id, "template-0123456789ab", 1, 128, kernel, Files.write(build.resolve("initrd.img"),
                new byte[4096]), TemplateBuilder.kernelCommandLine(), List.of(
                        new DiskSpec(Files.write(build.resolve("root.img"), new byte[4096]), DiskSpec.Format.RAW,
                                false, DiskSpec.Role.ROOT),
                        new DiskSpec(Files.write(build.resolve("work.raw"), new byte[4096]), DiskSpec.Format.RAW,
                                false, DiskSpec.Role.WORK)),
                runtime.resolve("agent.sock"), runtime.resolve("control.sock"), build.resolve("console.log"), runtime,
                3, Optional.of(new NetworkSpec(dev.banger.host.network.HostNetwork.tapName(id), "02:ba:00:00:00:01")));
        VmmHandle orphan = driver.launchForCapture(spec, new Snapshot(build.resolve("memory.ram"),
                build.resolve("device.state")));
        assertThat(processesNaming(spec.controlSocket())).containsExactly(orphan.pid());

        host.lifecycle.templates().reconcile();

        assertThat(processesNaming(spec.controlSocket())).as("its command line names only the runtime dir").isEmpty();
        assertThat(runtime).doesNotExist();
        assertThat(build).doesNotExist();
    }

    // ---- helpers ----

    private static VmCreateRequest request(String name) {
        return new VmCreateRequest(name, null, null, null, null, null, "firecracker", false, false);
    }

    private VmView create(String name) {
        return host.lifecycle.create(request(name), dev.banger.rpc.Call.detached());
    }

    private TemplateView awaitTemplate() throws InterruptedException {
        awaitNoTemplateBuild();
        List<TemplateView> templates = host.lifecycle.templateList().templates();
        assertThat(templates).as("the template built after the first boot").hasSize(1);
        return templates.get(0);
    }

    private void awaitNoTemplateBuild() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (host.lifecycle.templates().busy()) {
            assertThat(System.nanoTime()).as("template build still running").isLessThan(deadline);
            Thread.sleep(100);
        }
    }

    private String exec(Vm vm, String... argv) throws Exception {
        var process = host.running.agent(vm).exec(ExecSpec.of(List.of(argv)));
        String out = new String(process.stdout().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor().exitCode()).isZero();
        return out;
    }

    @SuppressWarnings("unchecked")
    private List<Map<String, Object>> recorded() throws IOException {
        List<Map<String, Object>> out = new ArrayList<>();
        for (String line : Files.readAllLines(firecracker.record())) {
            out.add((Map<String, Object>) Json.parseTree(line));
        }
        return out;
    }

    private static int indexOf(List<Map<String, Object>> requests, String method, String path, int status) {
        for (int i = 0; i < requests.size(); i++) {
            Map<String, Object> r = requests.get(i);
            if (r.get("method").equals(method) && r.get("path").equals(path)
                    && ((Number) r.get("status")).intValue() == status) {
                return i;
            }
        }
        return -1;
    }

    private static void assertEveryBodyMatchesTheApi(List<Map<String, Object>> requests) {
        for (Map<String, Object> r : requests) {
            String what = r.get("method") + " " + r.get("path");
            api.bodyType((String) r.get("method"), (String) r.get("path")).ifPresent(type ->
                    assertThat(api.validate(r.get("body"), type)).as("body of " + what).isEmpty());
        }
    }

    private static List<Long> processesNaming(Path path) {
        return ProcessHandle.allProcesses().filter(p -> p.isAlive()
                && p.info().commandLine().orElse("").contains(path.toString())).map(ProcessHandle::pid).toList();
    }

    private static List<String> fileNames(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(f -> f.getFileName().toString()).toList();
        }
    }

    private static String sha256(Path file) throws Exception {
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), MessageDigest.getInstance("SHA-256"))) {
            in.transferTo(java.io.OutputStream.nullOutputStream());
            return HexFormat.of().formatHex(((DigestInputStream) in).getMessageDigest().digest());
        }
    }
}
