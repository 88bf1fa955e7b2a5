package dev.banger.host.network;

import static org.assertj.core.api.Assertions.assertThat;

import dev.banger.host.Command;
import dev.banger.host.CommandResult;
import dev.banger.host.CommandRunner;
import dev.banger.host.ProcessCommandRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * banger's NAT chains with the real iptables and sysctl, inside a network namespace the test makes (a fresh one
 * has no rules and forwarding off, like a fresh host), so the host's own firewall is never touched.
 */
class GuestNatTest {

    private static final NetworkConfig CONFIG = new NetworkConfig("banger0", Ipv4Network.parse("172.30.77.0/24"),
            true, List.of());
    private static final ProcessCommandRunner HOST = new ProcessCommandRunner();

    @TempDir
    Path state;

    private String netns;
    private CommandRunner inNetns;

    @BeforeEach
    void createNamespace() {
        netns = "bgn-" + ProcessHandle.current().pid() % 100_000 + "-" + System.nanoTime() % 1000;
        HOST.run("ip", "netns", "add", netns);
        inNetns = command -> {
            List<String> argv = new ArrayList<>(List.of("ip", "netns", "exec", netns));
            argv.addAll(command.argv());
            Command wrapped = Command.of(argv).withTimeout(command.timeout());
            return HOST.run(command.allowFailure() ? wrapped.allowingFailure() : wrapped);
        };
    }

    @AfterEach
    void deleteNamespace() {
        HOST.run(Command.of("ip", "netns", "del", netns).allowingFailure());
    }

    @Test
    void ensureTwiceAddsTheRulesOnceAndRemoveTakesThemAllBack() {
        Path marker = state.resolve("network/ip_forward-enabled-by-banger");
        GuestNat nat = new GuestNat(inNetns, CONFIG, marker);
        List<String> filterBefore = rules("filter");
        assertThat(sysctlForwarding()).as("a fresh namespace does not forward").isEqualTo("0");
        assertThat(nat.status().missing()).hasSize(2);

        List<String> first = nat.ensure();
        List<String> second = nat.ensure();

        assertThat(first).contains("enabled net.ipv4.ip_forward", "jump to BANGER-POSTROUTING from POSTROUTING",
                "jump to BANGER-FORWARD from FORWARD");
        assertThat(second).as("a second start adds nothing").isEmpty();
        assertThat(rules("nat")).containsOnlyOnce(
                "-A POSTROUTING -j BANGER-POSTROUTING",
                "-A BANGER-POSTROUTING -s 172.30.77.0/24 ! -o banger0 -j MASQUERADE");
        assertThat(rules("filter")).containsOnlyOnce(
                "-A FORWARD -j BANGER-FORWARD",
                "-A BANGER-FORWARD -i banger0 -j ACCEPT",
                "-A BANGER-FORWARD -o banger0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT");
        assertThat(sysctlForwarding()).isEqualTo("1");
        assertThat(marker).exists();
        GuestNat.Status status = nat.status();
        assertThat(status.chainsInPlace()).isTrue();
        assertThat(status.forwardingEnabledByBanger()).isTrue();

        List<String> removed = nat.remove();

        assertThat(removed).contains("removed chain BANGER-POSTROUTING (nat)", "removed chain BANGER-FORWARD (filter)",
                "set net.ipv4.ip_forward back to 0 (bangerd had turned it on)");
        assertThat(rules("nat")).noneMatch(l -> l.contains("BANGER"));
        assertThat(rules("filter")).as("the filter table is as it was").isEqualTo(filterBefore);
        assertThat(sysctlForwarding()).isEqualTo("0");
        assertThat(marker).doesNotExist();
        assertThat(nat.remove()).as("nothing left to remove").isEmpty();
    }

    @Test
    void forwardingAlreadyOnIsLeftOnAndChangedRulesAreRefilled() {
        inNetns.run(Command.of("sysctl", "-q", "-w", "net.ipv4.ip_forward=1"));
        Path marker = state.resolve("marker");
        new GuestNat(inNetns, CONFIG, marker).ensure();
        NetworkConfig otherSubnet = new NetworkConfig("banger0", Ipv4Network.parse("10.77.0.0/16"), true, List.of());

        List<String> changed = new GuestNat(inNetns, otherSubnet, marker).ensure();

        assertThat(marker).as("forwarding was on already: not banger's to turn off").doesNotExist();
        assertThat(changed).containsExactly("filled chain BANGER-POSTROUTING");
        assertThat(rules("nat")).contains("-A BANGER-POSTROUTING -s 10.77.0.0/16 ! -o banger0 -j MASQUERADE")
                .noneMatch(l -> l.contains("172.30.77.0/24"));
        new GuestNat(inNetns, otherSubnet, marker).remove();
        assertThat(sysctlForwarding()).isEqualTo("1");
    }

    private List<String> rules(String table) {
        CommandResult result = inNetns.run(Command.of("iptables", "-w", "-t", table, "-S"));
        return result.stdoutText().lines().toList();
    }

    private String sysctlForwarding() {
        return inNetns.run(Command.of("sysctl", "-n", "net.ipv4.ip_forward")).stdoutText().strip();
    }
}
