package dev.banger.host.network;

import dev.banger.host.Command;
import dev.banger.host.CommandFailedException;
import dev.banger.host.CommandResult;
import dev.banger.host.CommandRunner;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Egress for guests: NAT in banger's own iptables chains, so banger never edits a rule it did not make and removes
 * all of its rules by deleting two chains. {@code BANGER-POSTROUTING} (table nat, jumped to from POSTROUTING)
 * masquerades the guest subnet leaving by any interface but the bridge; {@code BANGER-FORWARD} (table filter,
 * jumped to first from FORWARD, so a host firewall's final DROP or REJECT does not shadow it) accepts what comes
 * from the bridge and the related or established traffic back to it. Forwarding ({@code net.ipv4.ip_forward}) is
 * turned on when it is off, and a marker file records that banger did it, so {@link #remove} can turn it off again.
 *
 * <p>Idempotent: {@link #ensure} checks each chain, rule and jump ({@code iptables -C}) and adds only what is
 * missing; a chain whose rules differ (another subnet or bridge) is flushed and refilled. Nothing here logs: the
 * CLI (doctor, cleanup) uses it too.
 */
public final class GuestNat {

    static final String NAT_CHAIN = "BANGER-POSTROUTING";
    static final String FILTER_CHAIN = "BANGER-FORWARD";
    static final String FORWARDING_KEY = "net.ipv4.ip_forward";
    static final Duration TIMEOUT = Duration.ofSeconds(30);
    /** Jumps removed per chain at most: more than one is someone else's copy, a few is plenty. */
    private static final int MAX_JUMPS = 8;

    /** One of banger's chains: its table, the built-in chain that jumps to it, and its rules. */
    record Chain(String table, String name, String builtin, List<List<String>> rules) {
    }

    /**
     * What the host holds now.
     *
     * @param chainsInPlace both chains exist with their rules, each jumped to from its built-in chain
     * @param missing what is absent or different, for people ("BANGER-FORWARD jump from FORWARD")
     * @param forwarding {@code net.ipv4.ip_forward} is 1
     * @param forwardingEnabledByBanger banger turned forwarding on (its marker file exists)
     */
    public record Status(boolean chainsInPlace, List<String> missing, boolean forwarding,
                         boolean forwardingEnabledByBanger) {
    }

    private final CommandRunner runner;
    private final Path forwardingMarker;
    private final List<Chain> chains;

    /**
     * @param forwardingMarker the file whose presence records that banger turned {@code net.ipv4.ip_forward} on
     */
    public GuestNat(CommandRunner runner, NetworkConfig config, Path forwardingMarker) {
        this.runner = runner;
        this.forwardingMarker = forwardingMarker;
        String bridge = config.bridge();
        this.chains = List.of(
                new Chain("nat", NAT_CHAIN, "POSTROUTING", List.of(
                        List.of("-s", config.subnet().toString(), "!", "-o", bridge, "-j", "MASQUERADE"))),
                new Chain("filter", FILTER_CHAIN, "FORWARD", List.of(
                        List.of("-i", bridge, "-j", "ACCEPT"),
                        List.of("-o", bridge, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j",
                                "ACCEPT"))));
    }

    List<Chain> chains() {
        return chains;
    }

    /**
     * Puts forwarding, both chains, their rules and the jumps in place.
     *
     * @return what it changed, one phrase each; empty when everything was already there
     * @throws CommandFailedException when iptables or sysctl is missing or refuses (the message names the command)
     */
    public List<String> ensure() {
        List<String> changed = new ArrayList<>();
        if (!forwarding()) {
            try {
                Files.createDirectories(forwardingMarker.getParent());
                Files.writeString(forwardingMarker, "bangerd set " + FORWARDING_KEY + "=1; 'banger daemon cleanup-network' "
                        + "sets it back to 0\n");
            } catch (IOException e) {
                throw new UncheckedIOException("cannot record in " + forwardingMarker + " that banger enables "
                        + FORWARDING_KEY + ": " + e.getMessage(), e);
            }
            runner.run(Command.of("sysctl", "-q", "-w", FORWARDING_KEY + "=1").withTimeout(TIMEOUT));
            changed.add("enabled " + FORWARDING_KEY);
        }
        for (Chain chain : chains) {
            if (!exists(chain)) {
                iptables(chain.table(), "-N", chain.name());
                changed.add("created chain " + chain.name() + " (" + chain.table() + ")");
            }
            if (!chain.rules().stream().allMatch(rule -> check(chain.table(), chain.name(), rule))) {
                iptables(chain.table(), "-F", chain.name());
                for (List<String> rule : chain.rules()) {
                    iptables(chain.table(), concat(List.of("-A", chain.name()), rule));
                }
                changed.add("filled chain " + chain.name());
            }
            if (!check(chain.table(), chain.builtin(), List.of("-j", chain.name()))) {
                iptables(chain.table(), "-I", chain.builtin(), "1", "-j", chain.name());
                changed.add("jump to " + chain.name() + " from " + chain.builtin());
            }
        }
        return changed;
    }

    /**
     * Removes the jumps and both chains, and turns forwarding off again when banger had turned it on. Absent
     * pieces are fine.
     *
     * @return what it removed or restored, one sentence each; empty when there was nothing
     */
    public List<String> remove() {
        List<String> removed = new ArrayList<>();
        for (Chain chain : chains) {
            List<String> jump = List.of("-j", chain.name());
            for (int i = 0; i < MAX_JUMPS && check(chain.table(), chain.builtin(), jump); i++) {
                iptables(chain.table(), concat(List.of("-D", chain.builtin()), jump));
                if (i == 0) {
                    removed.add("removed the jump to " + chain.name() + " from " + chain.builtin());
                }
            }
            if (exists(chain)) {
                iptables(chain.table(), "-F", chain.name());
                iptables(chain.table(), "-X", chain.name());
                removed.add("removed chain " + chain.name() + " (" + chain.table() + ")");
            }
        }
        if (Files.exists(forwardingMarker)) {
            runner.run(Command.of("sysctl", "-q", "-w", FORWARDING_KEY + "=0").withTimeout(TIMEOUT));
            try {
                Files.delete(forwardingMarker);
            } catch (IOException e) {
                throw new UncheckedIOException("set " + FORWARDING_KEY + " back to 0 but cannot remove "
                        + forwardingMarker + ": " + e.getMessage() + " (remove it by hand)", e);
            }
            removed.add("set " + FORWARDING_KEY + " back to 0 (bangerd had turned it on)");
        }
        return removed;
    }

    /** Reads the host's state; changes nothing. @throws CommandFailedException when iptables cannot run */
    public Status status() {
        List<String> missing = new ArrayList<>();
        for (Chain chain : chains) {
            if (!exists(chain)) {
                missing.add("chain " + chain.name() + " (" + chain.table() + ")");
                continue;
            }
            if (!chain.rules().stream().allMatch(rule -> check(chain.table(), chain.name(), rule))) {
                missing.add("the rules of " + chain.name());
            }
            if (!check(chain.table(), chain.builtin(), List.of("-j", chain.name()))) {
                missing.add("the jump to " + chain.name() + " from " + chain.builtin());
            }
        }
        return new Status(missing.isEmpty(), missing, forwarding(), forwardingEnabledByBanger());
    }

    /**
     * Why this process cannot read the iptables rules (iptables' own message, "... Permission denied (you must be
     * root)"), or empty when it can: lists the built-in POSTROUTING chain of the nat table, which always exists.
     */
    public Optional<String> rulesUnreadable() {
        CommandResult result = runner.run(Command.of(argv("nat", List.of("-S", "POSTROUTING")))
                .withTimeout(TIMEOUT).allowingFailure());
        if (result.succeeded()) {
            return Optional.empty();
        }
        String message = result.stderrText().strip();
        return Optional.of(message.isEmpty() ? "iptables exit code " + result.exitCode()
                : message.lines().findFirst().orElseThrow());
    }

    /** Whether banger turned {@code net.ipv4.ip_forward} on (its marker file exists). */
    public boolean forwardingEnabledByBanger() {
        return Files.exists(forwardingMarker);
    }

    /** Whether {@code net.ipv4.ip_forward} is 1. @throws CommandFailedException when sysctl cannot run */
    public boolean forwarding() {
        String value = runner.run(Command.of("sysctl", "-n", FORWARDING_KEY).withTimeout(TIMEOUT)).stdoutText()
                .strip();
        return value.equals("1");
    }

    private boolean exists(Chain chain) {
        return runner.run(Command.of(argv(chain.table(), List.of("-S", chain.name()))).withTimeout(TIMEOUT)
                .allowingFailure()).succeeded();
    }

    private boolean check(String table, String chain, List<String> rule) {
        return runner.run(Command.of(argv(table, concat(List.of("-C", chain), rule))).withTimeout(TIMEOUT)
                .allowingFailure()).succeeded();
    }

    private void iptables(String table, String... args) {
        iptables(table, List.of(args));
    }

    private void iptables(String table, List<String> args) {
        runner.run(Command.of(argv(table, args)).withTimeout(TIMEOUT));
    }

    /** {@code -w}: wait for the xtables lock rather than fail when another program holds it. */
    private static List<String> argv(String table, List<String> args) {
        return concat(List.of("iptables", "-w", "-t", table), args);
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }
}
