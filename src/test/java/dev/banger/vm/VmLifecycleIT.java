package dev.banger.vm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.banger.json.Json;
import dev.banger.testkit.BangerHome;
import dev.banger.testkit.BangerHome.Result;
import dev.banger.testkit.TestAssets;
import dev.banger.vmm.VmmProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Real guests under QEMU TCG, driven through bin/banger as a user would: Debian's cloud kernel imported from its
 * .deb, a busybox root filesystem registered as an image.
 */
@Tag("vm")
class VmLifecycleIT {

    private BangerHome banger;

    @BeforeEach
    void setUp() throws Exception {
        banger = BangerHome.createWithBusyboxGuest();
    }

    @AfterEach
    void tearDown() throws Exception {
        banger.close();
    }

    @Test
    void aVmLivesAndDiesCleanly() throws Exception {
        Result create = ok(banger.banger("vm", "create", "--memory", "256M", "--disk", "128M", "demo"));
        assertThat(create.stdout()).isEqualTo("demo running\n");
        assertThat(create.stderr()).contains("provisioning disks", "starting qemu", "waiting for the guest agent",
                "guest ready");
        Map<?, ?> shown = json(ok(banger.banger("vm", "show", "demo", "--json")));
        assertThat(shown.get("state")).isEqualTo("running");
        long pid = (Long) shown.get("pid");
        assertThat(VmmProcess.stat(pid).map(st -> !st.exited()).orElse(false)).as("QEMU runs").isTrue();

        String kernelVersion = (String) json(ok(banger.banger("kernel", "show", "cloud", "--json"))).get("version");
        assertThat(ok(banger.banger("vm", "exec", "demo", "--", "uname", "-r")).stdout().trim())
                .isEqualTo(kernelVersion);

        Result failing = banger.banger("vm", "exec", "demo", "--", "sh", "-c", "echo to-out; echo to-err >&2; exit 7");
        assertThat(failing.exitCode()).isEqualTo(7);
        assertThat(failing.stdout()).isEqualTo("to-out\n");
        assertThat(failing.stderr()).isEqualTo("to-err\n");

        Result piped = pipe("hello from the host\n", "vm", "exec", "-i", "demo", "--", "tr", "a-z", "A-Z");
        assertThat(piped.stdout()).isEqualTo("HELLO FROM THE HOST\n");

        Result tty = ok(banger.banger("vm", "exec", "-t", "demo", "--", "tty"));
        assertThat(tty.stdout()).startsWith("/dev/pts/");

        Result missing = banger.banger("vm", "exec", "demo", "--", "no-such-program");
        assertThat(missing.exitCode()).as("as a shell: command not found").isEqualTo(127);
        assertThat(missing.stderr()).isEqualTo("banger: no-such-program: command not found\n");

        List<CompletableFuture<Result>> concurrent = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            String marker = "exec-" + i;
            concurrent.add(CompletableFuture.supplyAsync(() ->
                    banger.banger("vm", "exec", "demo", "--", "sh", "-c", "sleep 1; echo " + marker)));
        }
        for (int i = 0; i < 3; i++) {
            assertThat(concurrent.get(i).get(60, TimeUnit.SECONDS).stdout()).isEqualTo("exec-" + i + "\n");
        }

        assertThat(ok(banger.banger("vm", "exec", "demo", "--", "sh", "-c", "echo kept > /root/file")).exitCode())
                .isZero();
        assertThat(ok(banger.banger("vm", "stop", "demo")).stdout()).isEqualTo("demo stopped\n");
        assertThat(VmmProcess.stat(pid).map(st -> !st.exited()).orElse(false)).as("QEMU exited").isFalse();
        assertThat(json(ok(banger.banger("vm", "show", "demo", "--json"))).get("pid")).isNull();

        ok(banger.banger("vm", "start", "demo"));
        assertThat(ok(banger.banger("vm", "exec", "demo", "--", "cat", "/root/file")).stdout())
                .as("the work disk survives a restart").isEqualTo("kept\n");
        assertThat(ok(banger.banger("vm", "logs", "demo")).stdout()).contains("banger-init: agent ready");

        Result refused = banger.banger("vm", "delete", "demo");
        assertThat(refused.exitCode()).isEqualTo(1);
        assertThat(refused.stderr()).contains("is running; stop it first or use --force");

        ok(banger.banger("vm", "delete", "--force", "demo"));
        assertThat(banger.processes()).as("no QEMU left").isEmpty();
        assertThat(children(banger.stateDir().resolve("vms"))).as("no VM files left").isEmpty();
        assertThat(children(banger.home().resolve("run/vms"))).as("no sockets left").isEmpty();
    }

    @Test
    void setGrowsTheDiskAndChangesResourcesWhileStopped() throws Exception {
        ok(banger.banger("vm", "create", "--memory", "256M", "--disk", "64M", "--cpus", "2", "sized"));
        long before = Long.parseLong(ok(banger.banger("vm", "exec", "sized", "--", "sh", "-c",
                "df -m /root | tail -1 | awk '{print $2}'")).stdout().trim());
        Result running = banger.banger("vm", "set", "sized", "--disk", "256M");
        assertThat(running.exitCode()).isEqualTo(1);
        assertThat(running.stderr()).contains("is running; stop it first");

        Map<?, ?> stats = json(ok(banger.banger("vm", "stats", "sized", "--json")));
        assertThat(((Number) stats.get("cpuPercent")).doubleValue()).isGreaterThanOrEqualTo(0.0);
        assertThat((Long) stats.get("vmmRssBytes")).isGreaterThan(10L << 20);
        assertThat((Long) stats.get("guestMemTotalBytes")).isGreaterThan(100L << 20);
        assertThat((Long) stats.get("diskBytes")).isGreaterThan(0L);
        assertThat((Long) stats.get("netRxBytes")).isGreaterThanOrEqualTo(0L);

        ok(banger.banger("vm", "stop", "sized"));
        Result shrink = banger.banger("vm", "set", "sized", "--disk", "32M");
        assertThat(shrink.stderr()).contains("disks can only grow");
        ok(banger.banger("vm", "set", "sized", "--disk", "256M", "--cpus", "1", "--memory", "320M"));
        ok(banger.banger("vm", "start", "sized"));

        long after = Long.parseLong(ok(banger.banger("vm", "exec", "sized", "--", "sh", "-c",
                "df -m /root | tail -1 | awk '{print $2}'")).stdout().trim());
        assertThat(after).as("the guest sees the grown disk").isGreaterThan(before * 3);
        assertThat(ok(banger.banger("vm", "exec", "sized", "--", "nproc")).stdout().trim()).isEqualTo("1");
        assertThat(json(ok(banger.banger("vm", "show", "sized", "--json"))).get("memoryMib")).isEqualTo(320L);
    }

    @Test
    void aCreateGoesOnWithoutItsClientAndCanBeFollowed() throws Exception {
        List<String> argv = new ArrayList<>(List.of(BangerHome.root().resolve("bin/banger").toString(), "vm",
                "create", "--memory", "256M", "--disk", "64M", "detached"));
        ProcessBuilder pb = new ProcessBuilder(banger.inNetns(argv));
        pb.environment().put("BANGER_HOME", banger.home().toString());
        if (System.getProperty("banger.build.dir") != null) {
            pb.environment().put("BANGER_BUILD_DIR", System.getProperty("banger.build.dir"));
        }
        Process client = pb.redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        java.io.BufferedReader err = new java.io.BufferedReader(new java.io.InputStreamReader(client.getErrorStream()));
        String first = err.readLine();
        assertThat(first).startsWith("operation op-");
        String op = first.split(" ")[1];
        client.destroyForcibly(); // The client goes away mid-create.

        Result attached = ok(banger.banger("vm", "create", "--attach", op));
        assertThat(attached.stdout()).isEqualTo("detached running\n");
        assertThat(attached.stderr()).as("replayed, then followed").contains("provisioning disks", "guest ready");
        assertThat(ok(banger.banger("vm", "exec", "detached", "--", "true")).exitCode()).isZero();
        Result unknown = banger.banger("vm", "create", "--attach", "op-00000000");
        assertThat(unknown.stderr()).contains("no such operation: op-00000000");
    }

    @Test
    void restartRebootsTheGuest() throws Exception {
        ok(banger.banger("vm", "create", "--memory", "256M", "--disk", "64M", "again"));
        String bootId = ok(banger.banger("vm", "exec", "again", "--", "cat", "/proc/sys/kernel/random/boot_id"))
                .stdout();

        ok(banger.banger("vm", "restart", "again"));

        assertThat(ok(banger.banger("vm", "exec", "again", "--", "cat", "/proc/sys/kernel/random/boot_id")).stdout())
                .isNotEqualTo(bootId);
        ok(banger.banger("vm", "stop", "--force", "again"));
        assertThat(banger.processes()).isEmpty();
    }

    @Test
    void aKernelThatCannotBootEndsInErrorNamingTheCause() throws Exception {
        Path kernel = Path.of((String) json(ok(banger.banger("kernel", "show", "cloud", "--json")))
                .get("kernelPath"));
        Files.write(kernel, new byte[4096]); // Garbage where the bzImage was.

        Result create = banger.banger("vm", "create", "--memory", "256M", "--disk", "64M", "broken");

        assertThat(create.exitCode()).isEqualTo(1);
        Map<?, ?> vm = json(ok(banger.banger("vm", "show", "broken", "--json")));
        assertThat(vm.get("state")).isEqualTo("error");
        assertThat((String) vm.get("lastError")).containsIgnoringCase("qemu");
        assertThat(create.stderr()).contains((String) vm.get("lastError"));
        assertThat(banger.processes()).as("no QEMU left behind").isEmpty();
    }

    @Test
    void aGuestWhoseAgentNeverAnswersEndsInErrorNamingTheSerialLog() throws Exception {
        Files.createDirectories(banger.home().resolve("config"));
        Files.writeString(banger.home().resolve("config/config.json"), "{\"bootTimeoutSeconds\": 2}");
        // The modular kernel with a modules directory that claims virtio is built in: the initramfs loads nothing,
        // cannot find the root disk, so no agent ever answers.
        Map<?, ?> cloud = json(ok(banger.banger("kernel", "show", "cloud", "--json")));
        Path lying = Files.createDirectories(banger.home().resolve("lying/lib/modules/" + cloud.get("version")));
        Files.writeString(lying.resolve("modules.builtin"), String.join("\n", "kernel/drivers/virtio/virtio_mmio.ko",
                "kernel/drivers/virtio/virtio_pci.ko", "kernel/drivers/block/virtio_blk.ko",
                "kernel/drivers/net/virtio_net.ko", "kernel/drivers/char/virtio_console.ko",
                "kernel/net/vmw_vsock/vmw_vsock_virtio_transport.ko") + "\n");
        ok(banger.banger("kernel", "import", "bare", "--kernel", (String) cloud.get("kernelPath"), "--modules",
                lying.toString()));

        long t0 = System.nanoTime();
        Result create = banger.banger("vm", "create", "--kernel", "bare", "--memory", "256M", "--disk", "64M", "mute");
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);

        assertThat(create.exitCode()).isEqualTo(1);
        assertThat(seconds).as("gave up near the 2 s boot timeout").isLessThan(20);
        Map<?, ?> vm = json(ok(banger.banger("vm", "show", "mute", "--json")));
        assertThat(vm.get("state")).isEqualTo("error");
        assertThat((String) vm.get("lastError")).contains("see the serial console log " + vm.get("logPath"));
        assertThat(banger.processes()).isEmpty();
        ok(banger.banger("vm", "delete", "mute"));
    }

    @Test
    void kernelsInUseCannotBeDeletedAndTheDefaultMoves() throws Exception {
        ok(banger.banger("vm", "create", "--no-start", "--kernel", "cloud", "holder"));
        Path deb = TestAssets.debianCloudKernelDeb();
        ok(banger.banger("kernel", "import", "second", "--deb", deb.toString()));

        Result refused = banger.banger("kernel", "delete", "cloud");
        assertThat(refused.exitCode()).isEqualTo(1);
        assertThat(refused.stderr()).contains("kernel 'cloud' is used by VMs holder");

        ok(banger.banger("kernel", "default", "second"));
        assertThat(ok(banger.banger("kernel", "list")).stdout()).containsPattern("second\\s+\\S+\\s+\\*");
        ok(banger.banger("vm", "delete", "holder"));
        ok(banger.banger("kernel", "delete", "cloud"));
        assertThat(ok(banger.banger("kernel", "list", "--json")).stdout()).doesNotContain("\"cloud\"");
        Result duplicate = banger.banger("kernel", "import", "second", "--deb", deb.toString());
        assertThat(duplicate.stderr()).contains("a kernel named 'second' already exists");
    }

    private Result pipe(String input, String... args) throws Exception {
        List<String> argv = new ArrayList<>();
        argv.add(BangerHome.root().resolve("bin/banger").toString());
        argv.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(banger.inNetns(argv));
        pb.environment().put("BANGER_HOME", banger.home().toString());
        if (System.getProperty("banger.build.dir") != null) {
            pb.environment().put("BANGER_BUILD_DIR", System.getProperty("banger.build.dir"));
        }
        Path in = Files.createTempFile(banger.home(), "stdin", ".txt");
        Files.writeString(in, input);
        Path out = Files.createTempFile(banger.home(), "stdout", ".txt");
        Process p = pb.redirectInput(in.toFile()).redirectOutput(out.toFile())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Result(p.exitValue(), Files.readString(out), "");
    }

    private static Result ok(Result result) {
        assertThat(result.exitCode()).as(result.output()).isZero();
        return result;
    }

    private static Map<?, ?> json(Result result) {
        return (Map<?, ?>) Json.parseTree(result.stdout());
    }

    private static List<String> children(Path dir) throws Exception {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).toList();
        }
    }

}
