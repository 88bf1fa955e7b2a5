package dev.banger.dns;

import java.net.InetSocketAddress;
import java.util.List;

/**
 * The systemd-resolved commands that send {@code *.vm} on the guest bridge's link to banger's DNS server, and only
 * {@code *.vm}. Kept apart from {@link HostResolverHook} so the CLI (doctor prints them as a fix) loads no logging.
 */
public final class ResolvedRoute {

    private ResolvedRoute() {
    }

    public static List<List<String>> commands(String link, InetSocketAddress dns) {
        String server = format(dns);
        return List.of(
                List.of("resolvectl", "dns", link, server),
                List.of("resolvectl", "domain", link, "~vm"),
                List.of("resolvectl", "default-route", link, "false"));
    }

    /** {@code 127.0.0.1:5553}, {@code [::1]:5553}: the form resolvectl and banger's messages use. */
    public static String format(InetSocketAddress address) {
        String host = address.getAddress() != null ? address.getAddress().getHostAddress() : address.getHostString();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + address.getPort();
    }
}
