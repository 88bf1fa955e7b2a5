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
 * the bridge with the host's address, one tap per running VM, and NAT ({@link GuestNat}, unless the config turns
 * it off). Every operation is idempotent, so reconcile and retries can call them on half-built state.
 */
public final class HostNetwork {

    private static final Logger log = LoggerFactory.getLogger(HostNetwork.class);
    private static final String TAP_PREFIX = "bt";

    private final CommandRunner runner;
    private final NetworkConfig config;
    private final GuestNat nat;
    private volatile Runnable bridgeUpListener = () -> { };
    /** Whether {@link #ensureBridge} ran in this daemon; until it has, the next tap checks the bridge in full. */
    private volatile boolean bridgeEnsured;

    /** @param forwardingMarker where {@link GuestNat} records that banger turned IPv4 forwarding on */
    public HostNetwork(CommandRunner runner, NetworkConfig config, Path forwardingMarker) {
        this.runner = runner;
        this.config = config;
        this.nat = new GuestNat(runner, config, forwardingMarker);
    }

    /**
     * Runs {@code listener} after every {@link #ensureBridge} (the bridge is up with its address): services that
     * bind to the bridge address start there. It must be cheap when it has nothing to do, and not throw.
     */
    public void onBridgeUp(Runnable listener) {
        this.bridgeUpListener = listener;
    }

    public NetworkConfig config() {
        return config;
    }

    /**
     * The bridge's own MAC: the one {@link AddressAllocator} derives for the host address (no guest has it). Set
     * explicitly, because a bridge without one takes the lowest MAC of its ports and changes it as taps come and go:
     * a guest that learned the bridge's MAC while a template build's tap was attached then sends to a MAC nobody
     * has once that tap is gone, and loses the host for as long as its ARP entry lives (tens of seconds).
     */
    public String bridgeMac() {
        return AddressAllocator.macFor(config.hostAddress());
    }

    /** The tap device of a VM: "bt" + its 12-character id (15 characters, the kernel's limit). */
    public static String tapName(String vmId) {
        return TAP_PREFIX + vmId;
    }

    /**
     * Creates the bridge if needed, gives it its MAC ({@link #bridgeMac}) and the host address, brings it up; NAT
     * too when configured. NAT that cannot be set up (no iptables) is logged, not thrown: a guest without egress is
     * still a working guest, and {@code banger doctor} says what is missing.
     */
    public synchronized void ensureBridge() {
        String bridge = config.bridge();
        Optional<Map<?, ?>> link = link(bridge, false);
        String mac = bridgeMac();
        if (link.isEmpty()) {
            ip("create bridge " + bridge, "link", "add", "name", bridge, "address", mac, "type", "bridge");
            log.info("created bridge {}", bridge);
        } else if (!mac.equalsIgnoreCase(String.valueOf(link.get().get("address")))) {
            ip("give bridge " + bridge + " the address " + mac, "link", "set", bridge, "address", mac);
        }
        String cidr = config.hostAddress() + "/" + config.subnet().prefix();
        if (!addresses(bridge).contains(config.hostAddress())) {
            ip("give bridge " + bridge + " the address " + cidr, "addr", "add", cidr, "dev", bridge);
        }
        ip("bring bridge " + bridge + " up", "link", "set", bridge, "up");
        if (config.nat()) {
            try {
                List<String> changed = nat.ensure();
                if (!changed.isEmpty()) {
                    log.info("NAT for {}: {}", config.subnet(), String.join(", ", changed));
                }
            } catch (RuntimeException e) {
                log.warn("guests have no NAT egress: {} (install iptables, or set \"nat\": false in the network "
                        + "config to silence this)", e.getMessage());
            }
        }
        bridgeEnsured = true;
        bridgeUpListener.run();
    }

    /**
     * Creates a VM's tap on the bridge, up: two {@code ip} calls on the common path (a boot's network step used to
     * cost a dozen processes, most of them re-checking a bridge and NAT rules that had not changed). The bridge and
     * NAT are checked in full ({@link #ensureBridge}) by the first tap a daemon makes, and again whenever a tap
     * cannot be made or attached (a leftover tap of that name, a bridge removed behind banger's back).
     */
    public void createTap(String tap) {
        if (!bridgeEnsured) {
            ensureBridge();
        } else {
            bridgeUpListener.run(); // Cheap when it has nothing to do; retries what failed last time.
        }
        try {
            addTap(tap);
        } catch (IllegalStateException first) {
            log.info("repairing the network before creating tap {} again: {}", tap, first.getMessage());
            deleteTap(tap);
            ensureBridge();
            addTap(tap);
        }
    }

    private void addTap(String tap) {
        ip("create tap " + tap, "tuntap", "add", "dev", tap, "mode", "tap");
        try {
            ip("attach tap " + tap + " to " + config.bridge(), "link", "set", tap, "master", config.bridge(), "up");
        } catch (RuntimeException e) {
            deleteTap(tap);
            throw e;
        }
    }

    /** Removes a tap; absent is fine. */
    public void deleteTap(String tap) {
        runner.run(Command.of("ip", "link", "del", tap).allowingFailure());
    }

    /** The names of the links (taps) whose names start with {@code prefix}. */
    public List<String> listTaps(String prefix) {
        CommandResult result = runner.run(Command.of("ip", "-j", "link", "show", "type", "tun").allowingFailure());
        List<String> found = new java.util.ArrayList<>();
        if (!result.succeeded() || result.stdoutText().isBlank()) {
            return found;
        }
        for (Object l : (List<?>) Json.parseTree(result.stdoutText())) {
            if (((Map<?, ?>) l).get("ifname") instanceof String name && name.startsWith(prefix)) {
                found.add(name);
            }
        }
        return found;
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
}
