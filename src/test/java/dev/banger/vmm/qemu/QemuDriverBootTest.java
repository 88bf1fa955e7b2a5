package dev.banger.vmm.qemu;

import dev.banger.model.KernelArtifacts;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.banger.kernel.InitramfsFile;
import dev.banger.kernel.InitrdAssembler;
import dev.banger.testkit.TestAssets;
import dev.banger.testkit.VmReaper;
import dev.banger.vmm.DiskSpec;
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
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Boots Debian's real cloud kernel under QEMU TCG with an initramfs built by banger's own builder. /init is a
 * busybox script standing in for banger-init: it loads the modules listed in /etc/banger/modules, checks the
 * virtio disk and the agent port, prints a marker and powers off (or idles when booted with banger_test=hold).
 */
@Tag("vm")
class QemuDriverBootTest {

    static final String MARKER = "BANGER-TEST-MARKER";
    static final String INIT = String.join("\n",
            "#!/bin/busybox sh",
            "B=/bin/busybox",
            "$B mount -t proc proc /proc",
            "$B mount -t sysfs sysfs /sys",
            "$B mount -t devtmpfs devtmpfs /dev",
            "while read -r m; do $B insmod \"$m\" || echo \"BANGER-TEST insmod failed: $m\"; done < /etc/banger/modules",
            "vda=no; agent=no; i=0",
            "while [ $i -lt 100 ]; do",
            "  [ -b /dev/vda ] && vda=yes",
            "  for f in /sys/class/virtio-ports/*/name; do",
            "    [ -f \"$f\" ] && [ \"$($B cat \"$f\")\" = banger.agent ] && agent=yes",
            "  done",
            "  [ $vda = yes ] && [ $agent = yes ] && break",
            "  $B usleep 20000; i=$((i+1))",
            "done",
            "echo \"" + MARKER + " vda=$vda agent=$agent modules=$($B wc -l < /etc/banger/modules)"
                    + " uptime=$($B cut -d' ' -f1 /proc/uptime)\"",
            "if [ \"$banger_test\" = hold ]; then while true; do $B sleep 1000; done; fi",
            "$B poweroff -f",
            "");

    static KernelArtifacts kernel;
    static Path rootfs;
    static Path initrd;

    @TempDir
    static Path shared;

    @TempDir
    Path vmDir;

    @RegisterExtension
    final VmReaper reaper = new VmReaper();

    private final QemuDriver driver = QemuDriver.forHost(TestAssets.runner(), Optional.empty());

    @BeforeAll
    static void assets() throws IOException {
        kernel = TestAssets.debianCloudKernel();
        rootfs = TestAssets.busyboxRootfs();
        Path init = Files.writeString(shared.resolve("init"), INIT, StandardCharsets.US_ASCII);
        initrd = new InitrdAssembler().initrdFor(kernel, init,
                List.of(new InitramfsFile("/bin/busybox", TestAssets.busybox(), 0755)));
    }

    private VmSpec spec(String extraCmdline) {
        return new VmSpec("t1", "boot-test", 1, 256, kernel.kernel(), initrd,
                "console=ttyS0 " + System.getProperty("banger.bootLogLevel", "quiet") + " panic=-1 " + extraCmdline,
                List.of(new DiskSpec(rootfs, DiskSpec.Format.RAW, true, DiskSpec.Role.ROOT)),
                vmDir.resolve("agent.sock"), vmDir.resolve("qmp.sock"), vmDir.resolve("console.log"), vmDir, 3,
                Optional.empty());
    }

    private static String awaitMarker(Path console, Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        do {
            if (Files.exists(console)) {
                for (String line : Files.readAllLines(console, StandardCharsets.ISO_8859_1)) {
                    if (line.contains(MARKER)) {
                        return line.substring(line.indexOf(MARKER));
                    }
                }
            }
            Thread.sleep(20);
        } while (System.nanoTime() < deadline);
        return null;
    }

    @Test
    void bootsToTheMarkerAndPowersOffByItself() throws Exception {
        long start = System.nanoTime();
        VmmHandle vm = reaper.track(driver.launch(spec("")));

        long ourSession = VmmProcess.stat(ProcessHandle.current().pid()).orElseThrow().session();
        assertThat(VmmProcess.stat(vm.pid())).get().satisfies(s -> assertThat(s.session())
                .as("QEMU runs in its own session, detached from ours").isNotEqualTo(ourSession));
        try (QmpClient qmp = QmpClient.connect(vm.controlSocket(), Duration.ofSeconds(3))) {
            assertThat(qmp.queryStatus(Duration.ofSeconds(3))).isEqualTo("running");
        }
        String marker = awaitMarker(vm.consoleLog(), Duration.ofSeconds(40));
        long bootMs = (System.nanoTime() - start) / 1_000_000;
        System.out.println("boot to marker: " + bootMs + " ms: " + marker);

        assertThat(marker).as("console:\n%s", consoleText(vm)).isNotNull();
        assertThat(marker).contains("vda=yes", "agent=yes", "modules=" + kernel.modules().size());
        assertThat(Files.readString(vm.consoleLog(), StandardCharsets.ISO_8859_1)).doesNotContain("insmod failed");
        assertThat(driver.awaitExit(vm, Duration.ofSeconds(20))).as("QEMU exits after guest poweroff").isTrue();
        assertThat(driver.isAlive(vm)).isFalse();
        assertThat(vm.controlSocket()).doesNotExist();
        assertThat(vm.agentSocket()).doesNotExist();
    }

    @Test
    void runningVmIsAliveUntilTerminated() throws Exception {
        VmmHandle vm = reaper.track(driver.launch(spec("banger_test=hold")));
        assertThat(awaitMarker(vm.consoleLog(), Duration.ofSeconds(40))).as("console:\n%s", consoleText(vm))
                .isNotNull();

        assertThat(driver.isAlive(vm)).isTrue();
        driver.requestPowerdown(vm);
        // The stand-in init has no ACPI power-button handler, so the guest stays up until terminated.
        assertThat(driver.awaitExit(vm, Duration.ofMillis(500))).isFalse();
        driver.terminate(vm, Duration.ofSeconds(5));

        assertThat(VmmProcess.running(vm.pid(), vm.startTicks())).isFalse();
        assertThat(driver.isAlive(vm)).isFalse();
        assertThat(vm.controlSocket()).doesNotExist();
        assertThat(vm.agentSocket()).doesNotExist();
        assertThat(vmDir.resolve("qemu.log")).content().contains("terminating on signal 15");
    }

    @Test
    void staleSocketsFromAKilledVmDoNotBlockTheNextLaunch() throws Exception {
        Files.writeString(vmDir.resolve("qmp.sock"), "stale");
        Files.writeString(vmDir.resolve("agent.sock"), "stale");
        VmmHandle vm = reaper.track(driver.launch(spec("banger_test=hold")));
        assertThat(driver.isAlive(vm)).isTrue();
        driver.terminate(vm, Duration.ofSeconds(5));
    }

    @Test
    void aQemuErrorIsReportedWithItsOwnMessageAndLeavesNothing() throws IOException {
        Path notAnImage = Files.writeString(vmDir.resolve("bad.qcow2"), "not qcow2");
        VmSpec base = spec("");
        VmSpec bad = new VmSpec(base.id(), base.name(), 1, 256, base.kernel(), base.initrd(), base.kernelCmdline(),
                List.of(new DiskSpec(notAnImage, DiskSpec.Format.QCOW2, false, DiskSpec.Role.ROOT)),
                base.agentSocket(), base.controlSocket(), base.consoleLog(), vmDir, 3, Optional.empty());

        assertThatThrownBy(() -> driver.launch(bad))
                .isInstanceOf(VmmException.class)
                .hasMessageStartingWith("QEMU failed to start VM boot-test: ")
                .hasMessageContaining("qcow2");
        assertThat(vmDir.resolve("qmp.sock")).doesNotExist();
        assertThat(vmDir.resolve("agent.sock")).doesNotExist();
    }

    /** Not part of the suite: {@code -Dbanger.bootTimings=5} measures launch-to-marker times. */
    @Test
    @EnabledIfSystemProperty(named = "banger.bootTimings", matches = "\\d+")
    void bootTimings() throws Exception {
        int runs = Integer.parseInt(System.getProperty("banger.bootTimings"));
        List<Long> ms = new ArrayList<>();
        for (int i = 0; i < runs; i++) {
            Files.deleteIfExists(vmDir.resolve("console.log"));
            long start = System.nanoTime();
            VmmHandle vm = reaper.track(driver.launch(spec("")));
            assertThat(awaitMarker(vm.consoleLog(), Duration.ofSeconds(40))).isNotNull();
            ms.add((System.nanoTime() - start) / 1_000_000);
            assertThat(driver.awaitExit(vm, Duration.ofSeconds(20))).isTrue();
            System.out.println("boot " + i + ": " + ms.get(i) + " ms; " + awaitMarker(vm.consoleLog(),
                    Duration.ZERO));
        }
        List<Long> sorted = new ArrayList<>(ms);
        sorted.sort(null);
        System.out.println("boot to marker ms: " + ms + " median " + sorted.get(sorted.size() / 2));
        System.out.println(Files.readString(vmDir.resolve("console.log"), StandardCharsets.ISO_8859_1));
    }

    private static String consoleText(VmmHandle vm) {
        try {
            return Files.exists(vm.consoleLog()) ? Files.readString(vm.consoleLog(), StandardCharsets.ISO_8859_1)
                    : "(no console log)";
        } catch (IOException e) {
            return e.toString();
        }
    }
}
