package dev.banger.config;

import dev.banger.json.Json;
import dev.banger.json.JsonException;
import dev.banger.model.VmmKind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import dev.banger.host.network.HostNetwork;
import dev.banger.host.network.Ipv4Network;
import dev.banger.host.network.NetworkConfig;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Optional;

/**
 * The daemon's settings, read from {@code config.json} in the config dir when the daemon starts (a change takes
 * effect at its next start; {@link #fingerprint} lets the CLI tell that the file changed since). Every field is
 * optional; a missing file means all defaults.
 *
 * @param socketGroup a group whose members may use the daemon (socket 0660), or null for the owner only
 * @param defaultCpus vCPUs of a VM created without {@code --cpus}
 * @param defaultMemoryMib memory of a VM created without {@code --memory}
 * @param defaultDiskMib work-disk size of a VM created without {@code --disk}
 * @param bootTimeoutSeconds how long a booting guest may take to answer its agent
 * @param network the guest network; absent fields take defaults
 * @param dnsListen where the daemon's {@code NAME.vm} DNS server listens (UDP and TCP), {@code HOST:PORT} (an IPv6
 *     host in brackets), or {@code off}; default {@value #DEFAULT_DNS_LISTEN}: loopback only, and not 5353
 *     (mDNS, avahi) or 5355 (LLMNR, systemd-resolved)
 * @param defaultVmm VMM of a VM created without {@code --vmm}: {@code qemu}, {@code firecracker}, or
 *     {@value #AUTO_VMM} (the default: Firecracker where KVM, firecracker and the kernel allow, else QEMU)
 * @param guestSyncSeconds how often running guests' clocks are set to the host's (and their authorized key
 *     checked), default 60
 * @param images bounds on image pulls (staging space, layer expansion); absent fields take defaults
 */
public record DaemonConfig(String socketGroup, Integer defaultCpus, Integer defaultMemoryMib, Long defaultDiskMib,
                           Integer bootTimeoutSeconds, Network network, String dnsListen, String defaultVmm,
                           Integer guestSyncSeconds, Images images) {

    public static final String DEFAULT_DNS_LISTEN = "127.0.0.1:5553";
    public static final String AUTO_VMM = "auto";
    /** How a config file that differs from the one the running daemon read takes effect. */
    public static final String RESTART_TO_APPLY = "its settings apply after a restart: banger daemon stop (VMs "
            + "keep running; the next command starts bangerd again)";
    public static final DaemonConfig DEFAULTS = new DaemonConfig(null, 2, 1024, 4096L, 60, null, DEFAULT_DNS_LISTEN,
            AUTO_VMM, 60, null);

    /**
     * The {@code network} section.
     *
     * @param bridge bridge device (default banger0)
     * @param subnet guest subnet in CIDR form (default 172.30.77.0/24)
     * @param nat masquerade guest traffic to the outside (default on; {@code false} opts out)
     * @param dns guest nameservers (default: the bridge address, where the daemon answers {@code NAME.vm} and
     *     forwards other names to the host's resolvers)
     * @param copyOverNetwork {@code vm cp} archives go over TCP on the bridge when the guest can take them there
     *     (default on: several times faster than the agent channel under QEMU; {@code false} keeps them on the
     *     agent channel, off the network other guests share)
     */
    public record Network(String bridge, String subnet, Boolean nat, List<String> dns, Boolean copyOverNetwork) {
    }

    /**
     * The {@code images} section: what image pulls may use (docs/images.md, "Bounds").
     *
     * @param stagingTmpfsMib tmpfs all concurrent pulls may stage on together (default: a quarter of /dev/shm's
     *     size; 0: never stage on tmpfs); a pull outgrowing it starts over on disk
     * @param stagingDiskMib disk all concurrent pulls may stage on together, the ext4 disks being built included
     *     (default 65536, 64 GiB); a pull outgrowing it is refused
     * @param maxLayerExpansion how many times its compressed size one layer may unpack to, past 1 GiB (default 100)
     */
    public record Images(Long stagingTmpfsMib, Long stagingDiskMib, Long maxLayerExpansion) {
    }

    /** The {@code images} section, every field present or null for its default. */
    public Images imageSettings() {
        Images i = images != null ? images : new Images(null, null, null);
        if (i.stagingTmpfsMib() != null && i.stagingTmpfsMib() < 0) {
            throw new IllegalArgumentException("images.stagingTmpfsMib must be 0 or more, not " + i.stagingTmpfsMib());
        }
        if (i.stagingDiskMib() != null && i.stagingDiskMib() < 1) {
            throw new IllegalArgumentException("images.stagingDiskMib must be at least 1, not " + i.stagingDiskMib());
        }
        if (i.maxLayerExpansion() != null && i.maxLayerExpansion() < 1) {
            throw new IllegalArgumentException("images.maxLayerExpansion must be at least 1, not "
                    + i.maxLayerExpansion());
        }
        return i;
    }

    /** The guest network with defaults filled in. @throws IllegalArgumentException for a bad bridge or subnet */
    public NetworkConfig networkConfig() {
        Network n = network != null ? network : new Network(null, null, null, null, null);
        Ipv4Network subnet = Ipv4Network.parse(n.subnet() != null ? n.subnet() : NetworkConfig.DEFAULT_SUBNET);
        return new NetworkConfig(n.bridge() != null ? n.bridge() : NetworkConfig.DEFAULT_BRIDGE, subnet,
                !Boolean.FALSE.equals(n.nat()),
                n.dns() != null ? n.dns() : List.of(NetworkConfig.hostAddressOf(subnet)));
    }

    /** Whether {@code vm cp} may carry archives over TCP on the guest network ({@code network.copyOverNetwork}). */
    public boolean copyOverNetwork() {
        return network == null || !Boolean.FALSE.equals(network.copyOverNetwork());
    }

    /**
     * The DNS server's address, or empty when {@code dnsListen} is {@code off}.
     *
     * @throws IllegalArgumentException for a value that is not HOST:PORT with an IP literal and a port 1..65535
     */
    public Optional<InetSocketAddress> dnsAddress() {
        String value = dnsListen == null || dnsListen.isBlank() ? DEFAULT_DNS_LISTEN : dnsListen.strip();
        if (value.equalsIgnoreCase("off")) {
            return Optional.empty();
        }
        int colon = value.lastIndexOf(':');
        String host = colon > 0 ? value.substring(0, colon) : "";
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(value.substring(colon + 1));
        } catch (NumberFormatException | IndexOutOfBoundsException e) {
            port = -1;
        }
        if (port < 1 || port > 65535 || !(host.matches("[0-9.]+") || host.contains(":"))) {
            throw new IllegalArgumentException("dnsListen '" + value + "' is not HOST:PORT with an IP address "
                    + "(e.g. " + DEFAULT_DNS_LISTEN + ") or 'off'");
        }
        try {
            return Optional.of(new InetSocketAddress(InetAddress.getByName(host), port));
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("dnsListen '" + value + "': " + e.getMessage());
        }
    }

    /**
     * The VMM {@code defaultVmm} fixes, or empty for {@value #AUTO_VMM} (also when unset).
     *
     * @throws IllegalArgumentException for a value that is none of auto, qemu, firecracker
     */
    public Optional<VmmKind> vmmOverride() {
        String value = defaultVmm == null || defaultVmm.isBlank() ? AUTO_VMM : defaultVmm.strip();
        if (value.equals(AUTO_VMM)) {
            return Optional.empty();
        }
        try {
            return Optional.of(VmmKind.fromWire(value));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("defaultVmm '" + value + "' in config.json is not auto, qemu or "
                    + "firecracker; fix the file");
        }
    }

    public java.time.Duration bootTimeout() {
        return java.time.Duration.ofSeconds(bootTimeoutSeconds != null ? bootTimeoutSeconds
                : DEFAULTS.bootTimeoutSeconds);
    }

    /** @throws IllegalArgumentException when {@code guestSyncSeconds} is not positive */
    public java.time.Duration guestSyncPeriod() {
        int seconds = guestSyncSeconds != null ? guestSyncSeconds : DEFAULTS.guestSyncSeconds;
        if (seconds < 1) {
            throw new IllegalArgumentException("guestSyncSeconds must be at least 1, not " + seconds);
        }
        return java.time.Duration.ofSeconds(seconds);
    }

    public Optional<String> socketGroupName() {
        return Optional.ofNullable(socketGroup).filter(g -> !g.isBlank());
    }

    public int cpus() {
        return defaultCpus != null ? defaultCpus : DEFAULTS.defaultCpus;
    }

    public int memoryMib() {
        return defaultMemoryMib != null ? defaultMemoryMib : DEFAULTS.defaultMemoryMib;
    }

    public long diskMib() {
        return defaultDiskMib != null ? defaultDiskMib : DEFAULTS.defaultDiskMib;
    }

    /** Reads {@code file}; absent means defaults. @throws IllegalArgumentException naming the file on bad JSON */
    public static DaemonConfig load(Path file) {
        if (!Files.exists(file)) {
            return DEFAULTS;
        }
        try {
            String text = Files.readString(file);
            if (Json.parseTree(text) instanceof Map<?, ?> fields && fields.containsKey("defaultImage")) {
                throw new IllegalArgumentException("cannot read " + file + ": \"defaultImage\" is not a setting; "
                        + "the default image is kept with the images (banger image default NAME): remove the key");
            }
            return Json.read(text, DaemonConfig.class);
        } catch (IOException | JsonException e) {
            throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage()
                    + " (fix or remove the file)");
        }
    }

    /**
     * The SHA-256 of {@code file}'s content, or "absent": the daemon reports the one it started with, so a
     * changed file (whose settings need a daemon restart) can be told from the one in effect.
     */
    public static String fingerprint(Path file) {
        byte[] content;
        try {
            content = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return "absent";
        } catch (IOException e) {
            return "unreadable: " + e.getMessage();
        }
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }
}
