package dev.banger.doctor;

import dev.banger.config.BangerPaths;
import dev.banger.config.DaemonConfig;
import dev.banger.host.Command;
import dev.banger.host.CommandFailedException;
import dev.banger.host.CommandRunner;
import dev.banger.host.network.GuestNat;
import dev.banger.host.network.NetworkConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The doctor's one {@code nat} line: whether guests can reach beyond the host, with its prerequisites. Off when the
 * config says {@code "nat": false}; otherwise which iptables there is (its nft or legacy backend), whether banger's
 * chains are in place and {@code net.ipv4.ip_forward}, with whether bangerd turned it on (and so whether cleanup
 * turns it off). Chains and forwarding are read through {@link GuestNat}, as the daemon reads them; reading the
 * rules needs root, and the line says so rather than guess. Not required: guests without egress still reach the
 * host and each other.
 */
final class NatCheck {

    static final String CHECK = "nat";
    private static final Duration VERSION_TIMEOUT = Duration.ofSeconds(10);

    private final Doctor.HostProbe host;
    private final CommandRunner runner;
    private final BangerPaths paths;

    NatCheck(Doctor.HostProbe host, CommandRunner runner, BangerPaths paths) {
        this.host = host;
        this.runner = runner;
        this.paths = paths;
    }

    CheckResult run() {
        NetworkConfig network;
        try {
            network = DaemonConfig.load(paths.configFile()).networkConfig();
        } catch (IllegalArgumentException e) {
            return CheckResult.warn(CHECK, "not checked: " + e.getMessage(), "fix " + paths.configFile());
        }
        if (!network.nat()) {
            return CheckResult.pass(CHECK, "off by config (\"nat\": false in " + paths.configFile()
                    + "): guests reach only the host and each other");
        }
        List<String> absent = new ArrayList<>();
        Optional<Path> iptables = host.findProgram("iptables");
        if (iptables.isEmpty()) {
            absent.add("iptables");
        }
        if (host.findProgram("sysctl").isEmpty()) {
            absent.add("sysctl");
        }
        if (!absent.isEmpty()) {
            return CheckResult.warn(CHECK, String.join(" and ", absent) + " not found: guests cannot reach beyond "
                    + "the host", "apt-get install iptables procps (or set \"nat\": false in " + paths.configFile()
                    + ")");
        }
        String which = iptablesVersion();
        GuestNat nat = new GuestNat(runner, network, paths.natForwardingMarker());
        String chains = "BANGER-POSTROUTING (nat) and BANGER-FORWARD (filter) for " + network.subnet();
        try {
            Optional<String> unreadable = nat.rulesUnreadable();
            if (unreadable.isPresent()) {
                return CheckResult.warn(CHECK, which + "; " + forwarding(nat.forwarding(),
                        nat.forwardingEnabledByBanger()) + "; " + chains + " not checked: cannot read the rules ("
                        + unreadable.get() + ")", "run banger doctor as root to see the chains");
            }
            GuestNat.Status status = nat.status();
            String forwarding = forwarding(status.forwarding(), status.forwardingEnabledByBanger());
            if (status.chainsInPlace() && status.forwarding()) {
                return CheckResult.pass(CHECK, which + "; " + chains + " in place; " + forwarding);
            }
            if (status.missing().size() == 2 && status.missing().stream().allMatch(m -> m.startsWith("chain "))) {
                return CheckResult.pass(CHECK, which + "; not set up yet: bangerd adds " + chains
                        + (status.forwarding() ? " (net.ipv4.ip_forward is 1 already)"
                                : " and turns on net.ipv4.ip_forward (now 0)") + " when the first VM starts");
            }
            if (!status.chainsInPlace()) {
                return CheckResult.warn(CHECK, which + "; incomplete: missing " + String.join(", ", status.missing())
                        + "; " + forwarding, "start a VM (bangerd puts them back), and look for a firewall that "
                        + "removes them");
            }
            return CheckResult.warn(CHECK, which + "; " + chains + " in place but net.ipv4.ip_forward=0: guests "
                    + "cannot reach beyond the host", "sysctl -w net.ipv4.ip_forward=1 (bangerd does at the next VM "
                    + "start)");
        } catch (CommandFailedException e) {
            return CheckResult.warn(CHECK, which + "; cannot read the NAT state: " + e.getMessage(),
                    "run banger doctor as root");
        }
    }

    private static String forwarding(boolean on, boolean byBanger) {
        return "net.ipv4.ip_forward=" + (on ? "1" : "0") + (byBanger ? " (turned on by bangerd; 'banger daemon "
                + "cleanup-network' turns it off)" : "");
    }

    /**
     * "iptables v1.8.9 (nft backend)": the version line iptables prints, with its backend named as people know it
     * (iptables-nft says "nf_tables", iptables-legacy "legacy"); banger's rules work with either.
     */
    private String iptablesVersion() {
        String line;
        try {
            line = runner.run(Command.of("iptables", "--version").withTimeout(VERSION_TIMEOUT)).stdoutText().strip()
                    .lines().findFirst().orElse("");
        } catch (CommandFailedException e) {
            line = "";
        }
        if (line.isEmpty()) {
            return "iptables (version unknown)";
        }
        return line.replace("(nf_tables)", "(nft backend)").replace("(legacy)", "(legacy backend)");
    }
}
