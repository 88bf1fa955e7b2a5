package dev.banger.host.network;

import java.util.List;

/**
 * The guest network: one bridge with the host's address, an IPv4 subnet guests get addresses from, NAT egress
 * (unless off), and the nameservers guests use.
 *
 * @param bridge bridge device name (at most 15 characters)
 * @param subnet IPv4 network in CIDR form; the host takes its first address, guests the rest
 * @param nat masquerade guest traffic leaving through other interfaces ({@link GuestNat})
 * @param dns nameservers written into guests' /etc/resolv.conf; empty for none. When it holds the host address,
 *     the daemon serves DNS there ({@link #guestDnsOnBridge()})
 */
public record NetworkConfig(String bridge, Ipv4Network subnet, boolean nat, List<String> dns) {

    public static final String DEFAULT_BRIDGE = "banger0";
    public static final String DEFAULT_SUBNET = "172.30.77.0/24";

    public NetworkConfig {
        if (bridge == null || !bridge.matches("[A-Za-z0-9_.-]{1,15}")) {
            throw new IllegalArgumentException("network bridge name \"" + bridge + "\" must be 1-15 characters of "
                    + "letters, digits, '_', '.' or '-'");
        }
        if (subnet.prefix() > 29) {
            throw new IllegalArgumentException("network subnet " + subnet + " is too small: use /29 or larger");
        }
        dns = List.copyOf(dns);
    }

    /** The host's address on the bridge: the subnet's first address. */
    public String hostAddress() {
        return hostAddressOf(subnet);
    }

    public static String hostAddressOf(Ipv4Network subnet) {
        return subnet.address(1);
    }

    /** Guests are told to ask the host on the bridge for names, so the daemon must answer there. */
    public boolean guestDnsOnBridge() {
        return dns.contains(hostAddress());
    }
}
