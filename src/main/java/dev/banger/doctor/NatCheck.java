package dev.banger.doctor;

import dev.banger.config.BangerPaths;
import dev.banger.config.DaemonConfig;
import dev.banger.host.CommandFailedException;
import dev.banger.host.CommandRunner;
import dev.banger.host.network.GuestNat;
import dev.banger.host.network.NetworkConfig;

/**
 * The doctor's {@code nat} line: whether guests can reach beyond the host. Reads banger's iptables chains and
 * {@code net.ipv4.ip_forward} through {@link GuestNat#status}, which needs root to read the rules; says whether
 * bangerd turned forwarding on (and so whether cleanup turns it off). Not required: guests without egress still
 * reach the host and each other.
 */
final class NatCheck {

    static final String CHECK = "nat";

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
            return CheckResult.pass(CHECK, "off (\"nat\": false in " + paths.configFile()
                    + "): guests reach only the host and each other");
        }
        if (host.findProgram("iptables").isEmpty() || host.findProgram("sysctl").isEmpty()) {
            return CheckResult.warn(CHECK, "iptables or sysctl not found: guests cannot reach beyond the host",
                    "apt-get install iptables procps (or set \"nat\": false in " + paths.configFile() + ")");
        }
        GuestNat.Status status;
        try {
            status = new GuestNat(runner, network, paths.natForwardingMarker()).status();
        } catch (CommandFailedException e) {
            return CheckResult.warn(CHECK, "cannot read the NAT rules: " + e.getMessage(),
                    "run banger doctor as root");
        }
        String forwarding = "net.ipv4.ip_forward=" + (status.forwarding() ? "1" : "0")
                + (status.forwardingEnabledByBanger() ? " (turned on by bangerd; 'banger daemon cleanup-network' "
                        + "turns it off)" : "");
        String chains = "BANGER-POSTROUTING (nat) and BANGER-FORWARD (filter) for " + network.subnet();
        if (status.chainsInPlace() && status.forwarding()) {
            return CheckResult.pass(CHECK, chains + " in place; " + forwarding);
        }
        if (status.missing().size() == 2 && status.missing().stream().allMatch(m -> m.startsWith("chain "))) {
            return CheckResult.pass(CHECK, "not set up yet: bangerd adds " + chains + (status.forwarding() ? ""
                    : " and turns on net.ipv4.ip_forward (now 0)") + " when the first VM starts");
        }
        if (!status.chainsInPlace()) {
            return CheckResult.warn(CHECK, "incomplete: missing " + String.join(", ", status.missing()) + "; "
                    + forwarding, "start a VM (bangerd puts them back), and look for a firewall that removes them");
        }
        return CheckResult.warn(CHECK, chains + " in place but net.ipv4.ip_forward=0: guests cannot reach "
                + "beyond the host", "sysctl -w net.ipv4.ip_forward=1 (bangerd does at the next VM start)");
    }
}
