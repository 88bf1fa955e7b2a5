package dev.banger.host.network;

import dev.banger.host.Command;
import dev.banger.host.CommandFailedException;
import dev.banger.host.CommandResult;
import dev.banger.host.CommandRunner;
import dev.banger.json.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The host side of the guest network, through {@code ip} (JSON output, {@code -j}; never parsed human text):
 * the bridge with the host's address, one tap per running VM, and optional NAT. Every operation is idempotent,
 * so reconcile and retries can call them on half-built state.
 */
public final class HostNetwork {

    private static final Logger log = LoggerFactory.getLogger(HostNetwork.class);
    private static final String TAP_PREFIX = "bt";

    private final CommandRunner runner;
    private final NetworkConfig config;

    public HostNetwork(CommandRunner runner, NetworkConfig config) {
        this.runner = runner;
        this.config = config;
    }

    public NetworkConfig config() {
        return config;
    }

    /** The tap device of a VM: "bt" + its 12-character id (15 characters, the kernel's limit). */
    public static String tapName(String vmId) {
        return TAP_PREFIX + vmId;
    }

    /** Creates the bridge if needed, gives it the host address, brings it up; NAT too when configured. */
    public synchronized void ensureBridge() {
        String bridge = config.bridge();
        Optional<Map<?, ?>> link = link(bridge, false);
        if (link.isEmpty()) {
            ip("create bridge " + bridge, "link", "add", bridge, "type", "bridge");
            log.info("created bridge {}", bridge);
        }
        String cidr = config.hostAddress() + "/" + config.subnet().prefix();
        if (!addresses(bridge).contains(config.hostAddress())) {
            ip("give bridge " + bridge + " the address " + cidr, "addr", "add", cidr, "dev", bridge);
        }
        ip("bring bridge " + bridge + " up", "link", "set", bridge, "up");
        if (config.nat()) {
            ensureNat();
        }
    }

    /** Creates (or re-creates) a VM's tap on the bridge, up. */
    public void createTap(String tap) {
        deleteTap(tap);
        ip("create tap " + tap, "tuntap", "add", "dev", tap, "mode", "tap");
        try {
            ip("attach tap " + tap + " to " + config.bridge(), "link", "set", tap, "master", config.bridge());
            ip("bring tap " + tap + " up", "link", "set", tap, "up");
        } catch (RuntimeException e) {
            deleteTap(tap);
            throw e;
        }
    }

    /** Removes a tap; absent is fine. */
    public void deleteTap(String tap) {
        if (link(tap, false).isPresent()) {
            runner.run(Command.of("ip", "link", "del", tap).allowingFailure());
        }
    }

    /** A tap's byte counters from the host's view (rx = what the guest sent), if it exists. */
    public Optional<long[]> tapBytes(String tap) {
        return link(tap, true).map(l -> {
            Map<?, ?> stats = (Map<?, ?>) l.get("stats64");
            long rx = ((Number) ((Map<?, ?>) stats.get("rx")).get("bytes")).longValue();
            long tx = ((Number) ((Map<?, ?>) stats.get("tx")).get("bytes")).longValue();
            return new long[] {rx, tx};
        });
    }

    /** Kernel command-line keys banger-init reads to configure the guest's eth0. */
    public String guestKernelArgs(String guestIp) {
        StringBuilder args = new StringBuilder("banger.ip=" + guestIp + "/" + config.subnet().prefix()
                + " banger.gw=" + config.hostAddress());
        if (!config.dns().isEmpty()) {
            args.append(" banger.dns=").append(String.join(",", config.dns()));
        }
        return args.toString();
    }

    private void ensureNat() {
        String subnet = config.subnet().toString();
        runner.run(Command.of("sysctl", "-q", "-w", "net.ipv4.ip_forward=1"));
        List<String> rule = List.of("POSTROUTING", "-s", subnet, "!", "-o", config.bridge(), "-j", "MASQUERADE");
        CommandResult check = runner.run(Command.of(concat("iptables", "-t", "nat", "-C", rule)).allowingFailure());
        if (!check.succeeded()) {
            runner.run(Command.of(concat("iptables", "-t", "nat", "-A", rule)));
            log.info("NAT enabled for {}", subnet);
        }
    }

    private static List<String> concat(String a, String b, String c, String d, List<String> rest) {
        java.util.ArrayList<String> all = new java.util.ArrayList<>(List.of(a, b, c, d));
        all.addAll(rest);
        return all;
    }

    private Optional<Map<?, ?>> link(String name, boolean stats) {
        CommandResult result = runner.run(Command.of(stats
                ? List.of("ip", "-j", "-s", "link", "show", "dev", name)
                : List.of("ip", "-j", "link", "show", "dev", name)).allowingFailure());
        if (!result.succeeded()) {
            return Optional.empty(); // "Device ... does not exist."
        }
        List<?> links = (List<?>) Json.parseTree(result.stdoutText());
        return links.isEmpty() ? Optional.empty() : Optional.of((Map<?, ?>) links.get(0));
    }

    private List<String> addresses(String device) {
        CommandResult result = runner.run(Command.of("ip", "-j", "-4", "addr", "show", "dev", device));
        List<String> found = new java.util.ArrayList<>();
        for (Object l : (List<?>) Json.parseTree(result.stdoutText())) {
            Object info = ((Map<?, ?>) l).get("addr_info");
            if (info instanceof List<?> list) {
                for (Object a : list) {
                    found.add(String.valueOf(((Map<?, ?>) a).get("local")));
                }
            }
        }
        return found;
    }

    private void ip(String what, String... args) {
        List<String> argv = new java.util.ArrayList<>();
        argv.add("ip");
        argv.addAll(List.of(args));
        try {
            runner.run(Command.of(argv));
        } catch (CommandFailedException e) {
            throw new IllegalStateException("cannot " + what + ": " + e.getMessage()
                    + (Files.exists(Path.of("/dev/net/tun")) ? "" : " (/dev/net/tun is missing: modprobe tun)"), e);
        }
    }

    /** Host nameservers from /etc/resolv.conf that guests can use (loopback resolvers are skipped). */
    public static List<String> hostNameservers(Path resolvConf) {
        try {
            return Files.readAllLines(resolvConf).stream().map(String::strip)
                    .filter(l -> l.startsWith("nameserver "))
                    .map(l -> l.substring("nameserver ".length()).strip())
                    .filter(a -> a.matches("\\d+\\.\\d+\\.\\d+\\.\\d+") && !a.startsWith("127."))
                    .toList();
        } catch (java.io.IOException e) {
            return List.of();
        }
    }
}
