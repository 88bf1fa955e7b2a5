package dev.banger.dns;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/** {@link DnsRecords} in a concurrent map keyed by the lower-cased VM name. */
final class InMemoryDnsRecords implements DnsRecords {

    private final Map<String, Inet4Address> byName = new ConcurrentHashMap<>();

    @Override
    public void set(String vmName, String ipv4) {
        byName.put(key(vmName), parse(ipv4));
    }

    @Override
    public void remove(String vmName) {
        byName.remove(key(vmName));
    }

    @Override
    public Optional<Inet4Address> lookup(String vmName) {
        return Optional.ofNullable(byName.get(key(vmName)));
    }

    @Override
    public Map<String, Inet4Address> all() {
        return new TreeMap<>(byName);
    }

    private static String key(String vmName) {
        return vmName.toLowerCase(Locale.ROOT);
    }

    private static Inet4Address parse(String ipv4) {
        if (ipv4 == null || !ipv4.matches("\\d{1,3}(\\.\\d{1,3}){3}")) {
            throw new IllegalArgumentException("not an IPv4 address: " + ipv4);
        }
        try {
            return (Inet4Address) InetAddress.getByName(ipv4);
        } catch (UnknownHostException | ClassCastException e) {
            throw new IllegalArgumentException("not an IPv4 address: " + ipv4);
        }
    }
}
