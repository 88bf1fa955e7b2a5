package dev.banger.guest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.banger.testkit.AgentProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * How banger-init ends the machine after a shutdown: the real binary in agent mode with {@code --guest-root}, which
 * makes the choice PID 1 makes (same code: the kernel command line's {@code banger.halt}, ACPI's presence, what was
 * asked) from a pretend guest root, and prints it as {@code machine: reboot} or {@code machine: power-off}.
 * A power-off that only halts leaves a Firecracker process running, so under Firecracker it must be a reboot.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class MachineEndTest {

    @TempDir
    Path dir;

    private AgentProcess agent;

    @AfterEach
    void stop() throws Exception {
        if (agent != null) {
            agent.close();
        }
    }

    /** A guest root with {@code cmdline} as its kernel command line and, when {@code acpi}, ACPI tables. */
    private Path guestRoot(String cmdline, boolean acpi) throws Exception {
        Path root = dir.resolve("root");
        Files.createDirectories(root.resolve("proc"));
        Files.writeString(root.resolve("proc/cmdline"), cmdline + "\n");
        Files.createDirectories(root.resolve(acpi ? "sys/firmware/acpi" : "sys/firmware"));
        return root;
    }

    private String endAfterShutdown(String cmdline, boolean acpi, ShutdownAction action) throws Exception {
        agent = AgentProcess.start(dir, List.of("--guest-root", guestRoot(cmdline, acpi).toString()));
        try (AgentClient client = agent.connect()) {
            client.shutdown(action);
        }
        return machineLine();
    }

    private String endAfterSignal(String cmdline, boolean acpi, String signal) throws Exception {
        agent = AgentProcess.start(dir, List.of("--guest-root", guestRoot(cmdline, acpi).toString()));
        Process kill = new ProcessBuilder("kill", "-s", signal, Long.toString(agent.process().pid())).start();
        assertThat(kill.waitFor()).isZero();
        return machineLine();
    }

    private String machineLine() throws Exception {
        assertThat(agent.process().waitFor(10, TimeUnit.SECONDS)).as("the agent ends").isTrue();
        return agent.log().lines().filter(l -> l.startsWith("machine: ")).reduce((a, b) -> b)
                .orElseThrow(() -> new AssertionError("no machine: line in " + agent.log()));
    }

    @Test
    void poweroff_withAcpi_powersOff() throws Exception {
        assertThat(endAfterShutdown("console=ttyS0 banger.root=/dev/vda", true, ShutdownAction.POWEROFF))
                .isEqualTo("machine: power-off");
    }

    @Test
    void poweroff_withHaltReboot_reboots_evenWithAcpi() throws Exception {
        // A Firecracker guest since 1.8: ACPI tables for device discovery, but no ACPI power-off.
        assertThat(endAfterShutdown("console=ttyS0 reboot=k banger.halt=reboot", true, ShutdownAction.POWEROFF))
                .isEqualTo("machine: reboot");
        assertThat(agent.log()).contains("reboot (banger.halt=reboot: ");
    }

    @Test
    void poweroff_withoutAcpi_reboots() throws Exception {
        assertThat(endAfterShutdown("console=ttyS0", false, ShutdownAction.POWEROFF)).isEqualTo("machine: reboot");
    }

    @Test
    void reboot_reboots() throws Exception {
        assertThat(endAfterShutdown("console=ttyS0", true, ShutdownAction.REBOOT)).isEqualTo("machine: reboot");
    }

    @Test
    void ctrlAltDel_reboots_andSigterm_followsTheHaltKey() throws Exception {
        assertThat(endAfterSignal("console=ttyS0", true, "INT")).as("SIGINT is Ctrl-Alt-Del for PID 1")
                .isEqualTo("machine: reboot");
        agent.close();
        assertThat(endAfterSignal("banger.halt=reboot", true, "TERM")).isEqualTo("machine: reboot");
    }

    @Test
    void haltKey_lastOneWins_andOtherValuesKeepThePowerOff() throws Exception {
        assertThat(endAfterShutdown("banger.halt=reboot banger.halt=\"poweroff\"", true, ShutdownAction.POWEROFF))
                .as("the last banger.halt= wins, quotes stripped").isEqualTo("machine: power-off");
        agent.close();
        assertThat(endAfterShutdown("banger.halt=\"reboot\" xbanger.halt=poweroff", true, ShutdownAction.POWEROFF))
                .as("a key that only ends with banger.halt is another key").isEqualTo("machine: reboot");
    }
}
