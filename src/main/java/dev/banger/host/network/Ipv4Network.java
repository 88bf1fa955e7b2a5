package dev.banger.host.network;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** An IPv4 network in CIDR form, e.g. 172.30.77.0/24. */
public record Ipv4Network(int base, int prefix) {

    public Ipv4Network {
        if (prefix < 8 || prefix > 30) {
            throw new IllegalArgumentException("prefix /" + prefix + " is out of range: use /8../30");
        }
        base = base & mask(prefix);
    }

    /** @throws IllegalArgumentException saying what a valid network looks like */
    public static Ipv4Network parse(String cidr) {
        String[] parts = cidr == null ? new String[0] : cidr.split("/");
        if (parts.length != 2) {
            throw new IllegalArgumentException("\"" + cidr + "\" is not an IPv4 network: use CIDR form like "
                    + NetworkConfig.DEFAULT_SUBNET);
        }
        try {
            return new Ipv4Network(toInt(parts[0]), Integer.parseInt(parts[1]));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("\"" + cidr + "\" is not an IPv4 network: use CIDR form like "
                    + NetworkConfig.DEFAULT_SUBNET);
        }
    }

    /** Number of addresses in the network, network and broadcast included. */
    public int size() {
        return 1 << (32 - prefix);
    }

    /** The address {@code offset} into the network (0 = the network address). */
    public String address(int offset) {
        if (offset < 0 || offset >= size()) {
            throw new IllegalArgumentException("offset " + offset + " is outside " + this);
        }
        return toString(base + offset);
    }

    /** The offset of {@code address} in this network, or -1 when it lies outside. */
    public int offsetOf(String address) {
        int a = toInt(address);
        return (a & mask(prefix)) == base ? a - base : -1;
    }

    /**
     * A dotted IPv4 address as an {@link InetAddress}, without a name lookup.
     *
     * @throws IllegalArgumentException when {@code dotted} is not one
     */
    public static InetAddress inetAddress(String dotted) {
        try {
            int a = toInt(dotted);
            return InetAddress.getByAddress(new byte[] {(byte) (a >>> 24), (byte) (a >>> 16), (byte) (a >>> 8),
                    (byte) a});
        } catch (NumberFormatException | UnknownHostException e) {
            throw new IllegalArgumentException("\"" + dotted + "\" is not an IPv4 address", e);
        }
    }

    static int toInt(String dotted) {
        String[] octets = dotted.split("\\.");
        if (octets.length != 4) {
            throw new NumberFormatException(dotted);
        }
        int value = 0;
        for (String o : octets) {
            int b = Integer.parseInt(o);
            if (b < 0 || b > 255) {
                throw new NumberFormatException(dotted);
            }
            value = (value << 8) | b;
        }
        return value;
    }

    static String toString(int a) {
        return ((a >>> 24) & 255) + "." + ((a >>> 16) & 255) + "." + ((a >>> 8) & 255) + "." + (a & 255);
    }

    private static int mask(int prefix) {
        return prefix == 0 ? 0 : -1 << (32 - prefix);
    }

    @Override
    public String toString() {
        return toString(base) + "/" + prefix;
    }
}
