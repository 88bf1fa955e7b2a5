package dev.banger.dns;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The resolvers the host itself uses, for forwarding guests' names outside {@code vm.}. A loopback resolver in
 * {@code /etc/resolv.conf} is a stub that guests' queries would only loop back to (systemd-resolved's 127.0.0.53,
 * dnsmasq on 127.0.0.1): it is skipped, and when nothing else is left and systemd-resolved runs, its own upstreams
 * ({@code /run/systemd/resolve/resolv.conf}) are used. Read at each use: DHCP and VPNs change them.
 */
final class Upstreams {

    static final int PORT = 53;

    private final Path resolvConf;
    private final Path resolvedResolvConf;

    /**
     * @param resolvConf {@code /etc/resolv.conf}
     * @param resolvedResolvConf {@code /run/systemd/resolve/resolv.conf}: the upstreams behind resolved's stub
     */
    Upstreams(Path resolvConf, Path resolvedResolvConf) {
        this.resolvConf = resolvConf;
        this.resolvedResolvConf = resolvedResolvConf;
    }

    static Upstreams forHost() {
        return new Upstreams(Path.of("/etc/resolv.conf"), Path.of("/run/systemd/resolve/resolv.conf"));
    }

    /** The usable upstream servers, in the file's order; empty when the host has none. */
    List<InetSocketAddress> servers() {
        List<InetSocketAddress> servers = nameservers(resolvConf);
        return servers.isEmpty() ? nameservers(resolvedResolvConf) : servers;
    }

    /** Where {@link #servers} looked, for messages. */
    String describe() {
        return resolvConf + (Files.exists(resolvedResolvConf) ? " and " + resolvedResolvConf : "");
    }

    /** The non-loopback IP literals of {@code nameserver} lines (IPv6 with a zone index is skipped). */
    static List<InetSocketAddress> nameservers(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (IOException e) {
            return List.of();
        }
        List<InetSocketAddress> found = new ArrayList<>();
        for (String line : lines) {
            String[] fields = line.strip().split("\\s+");
            if (fields.length < 2 || !fields[0].equals("nameserver")) {
                continue;
            }
            String literal = fields[1];
            if (!literal.matches("[0-9.]+") && !(literal.contains(":") && literal.matches("[0-9A-Fa-f:.]+"))) {
                continue; // Not an IP literal (getByName would resolve a host name).
            }
            try {
                InetAddress address = InetAddress.getByName(literal);
                if (!address.isLoopbackAddress() && !address.isAnyLocalAddress()) {
                    found.add(new InetSocketAddress(address, PORT));
                }
            } catch (UnknownHostException e) {
                // A malformed literal: not a server.
            }
        }
        return found;
    }
}
