package dev.banger.dns;

import dev.banger.host.Command;
import dev.banger.host.CommandFailedException;
import dev.banger.host.CommandRunner;
import dev.banger.host.Executables;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Points the host's resolver at banger's DNS server for {@code *.vm}, where the host runs systemd-resolved: on the
 * guest bridge's link, {@code resolvectl dns LINK 127.0.0.1:PORT}, {@code resolvectl domain LINK ~vm} (a
 * routing-only domain: only {@code *.vm} goes there) and {@code resolvectl default-route LINK false} (nothing
 * else does). Per-link settings vanish when the link is re-created or resolved restarts, so the daemon applies
 * them whenever a VM starts; a link already configured (same ifindex) is skipped.
 *
 * <p>Limits, from resolved's behaviour: a per-link server on a loopback address works only as {@code 127.0.0.1}
 * (resolved binds per-link queries to the link and exempts only that address), and resolved uses a link only
 * while it has carrier, i.e. while at least one VM's tap is up on the bridge; with no VM running there is
 * nothing to resolve anyway. Without resolved this does nothing and logs why. It never throws: a resolver hook
 * that fails must not fail a VM start.
 */
public final class HostResolverHook {

    private static final Logger log = LoggerFactory.getLogger(HostResolverHook.class);
    static final Duration TIMEOUT = Duration.ofSeconds(10);

    /** What {@link #apply} did. */
    public record Outcome(boolean configured, String detail) {
    }

    private final CommandRunner runner;
    private final Executables executables;
    private final Path resolvedRuntimeDir;
    private final Path sysClassNet;
    private volatile String configuredFor;
    private volatile String lastSkip;

    /**
     * @param resolvedRuntimeDir {@code /run/systemd/resolve}: present while resolved runs
     * @param sysClassNet {@code /sys/class/net}, where the link's ifindex is read
     */
    public HostResolverHook(CommandRunner runner, Executables executables, Path resolvedRuntimeDir,
                            Path sysClassNet) {
        this.runner = runner;
        this.executables = executables;
        this.resolvedRuntimeDir = resolvedRuntimeDir;
        this.sysClassNet = sysClassNet;
    }

    /** The hook for this host. */
    public static HostResolverHook forHost(CommandRunner runner) {
        return new HostResolverHook(runner, Executables.fromEnvironment(), Path.of("/run/systemd/resolve"),
                Path.of("/sys/class/net"));
    }

    /** Configures resolved for {@code *.vm} on {@code link}, when resolved runs; never throws. */
    public Outcome apply(String link, InetSocketAddress dns) {
        Optional<Path> resolvectl = executables.find("resolvectl");
        if (resolvectl.isEmpty() || !Files.isDirectory(resolvedRuntimeDir)) {
            return skipped("systemd-resolved is not running here (" + (resolvectl.isEmpty() ? "no resolvectl"
                    : "no " + resolvedRuntimeDir) + "); *.vm names resolve only by asking banger's DNS server "
                    + ResolvedRoute.format(dns) + " directly, and ssh NAME.vm works through "
                    + "'banger ssh-config install'");
        }
        String ifindex;
        try {
            ifindex = Files.readString(sysClassNet.resolve(link).resolve("ifindex")).strip();
        } catch (IOException e) {
            return skipped("link " + link + " does not exist yet; the resolver hook runs when a VM starts");
        }
        String key = link + "#" + ifindex + "@" + ResolvedRoute.format(dns);
        if (key.equals(configuredFor)) {
            return new Outcome(true, "already configured: *.vm on " + link + " → " + ResolvedRoute.format(dns));
        }
        if (dns.getAddress() != null && dns.getAddress().isLoopbackAddress()
                && !dns.getAddress().getHostAddress().equals("127.0.0.1")) {
            log.warn("systemd-resolved sends per-link queries through the link itself and exempts only 127.0.0.1; "
                    + "{} is unlikely to work: set dnsListen to 127.0.0.1:PORT", ResolvedRoute.format(dns));
        }
        for (List<String> argv : ResolvedRoute.commands(link, dns)) {
            List<String> real = new java.util.ArrayList<>(argv);
            real.set(0, resolvectl.get().toString());
            try {
                runner.run(Command.of(real).withTimeout(TIMEOUT));
            } catch (CommandFailedException e) {
                if (argv.get(1).equals("default-route")) {
                    log.debug("resolvectl default-route is not supported here: {}", e.getMessage());
                    continue; // Older resolved: *.vm still routes by domain.
                }
                return skipped("systemd-resolved refused the *.vm route: " + e.getMessage());
            }
        }
        configuredFor = key;
        String detail = "systemd-resolved sends *.vm on " + link + " to " + ResolvedRoute.format(dns);
        log.info(detail);
        return new Outcome(true, detail);
    }

    private Outcome skipped(String why) {
        if (!why.equals(lastSkip)) {
            log.info("host resolver hook skipped: {}", why); // Once per reason, not at every VM start.
            lastSkip = why;
        }
        return new Outcome(false, why);
    }
}
