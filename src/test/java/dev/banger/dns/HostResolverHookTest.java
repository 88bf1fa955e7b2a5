package dev.banger.dns;

import static org.assertj.core.api.Assertions.assertThat;

import dev.banger.host.Command;
import dev.banger.host.CommandFailedException;
import dev.banger.host.CommandResult;
import dev.banger.host.CommandRunner;
import dev.banger.host.Executables;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The resolvectl sequence, against a host the test lays out (resolved is not running here). */
class HostResolverHookTest {

    @TempDir
    Path host;
    private final List<List<String>> ran = new ArrayList<>();
    private final List<String> failing = new ArrayList<>();
    private final CommandRunner recorder = command -> {
        ran.add(command.argv());
        if (failing.contains(command.argv().get(1))) {
            throw new CommandFailedException(command, 1, "Unknown command verb", "exit code 1");
        }
        return new CommandResult(0, new byte[0], new byte[0]);
    };
    private Path bin;
    private final InetSocketAddress dns = new InetSocketAddress("127.0.0.1", 5553);

    @BeforeEach
    void layOut() throws Exception {
        bin = Files.createDirectories(host.resolve("bin"));
        Files.createDirectories(host.resolve("sys/class/net/banger0"));
        Files.writeString(host.resolve("sys/class/net/banger0/ifindex"), "7\n");
    }

    private HostResolverHook hook() {
        return new HostResolverHook(recorder, new Executables(bin.toString()), host.resolve("run/systemd/resolve"),
                host.resolve("sys/class/net"));
    }

    private void resolvedRuns() throws Exception {
        Path resolvectl = Files.writeString(bin.resolve("resolvectl"), "#!/bin/sh\n");
        resolvectl.toFile().setExecutable(true);
        Files.createDirectories(host.resolve("run/systemd/resolve"));
    }

    @Test
    void withResolvedTheBridgeLinkGetsTheVmRoutingDomain() throws Exception {
        resolvedRuns();

        HostResolverHook.Outcome outcome = hook().apply("banger0", dns);

        String resolvectl = bin.resolve("resolvectl").toString();
        assertThat(outcome.configured()).isTrue();
        assertThat(ran).containsExactly(
                List.of(resolvectl, "dns", "banger0", "127.0.0.1:5553"),
                List.of(resolvectl, "domain", "banger0", "~vm"),
                List.of(resolvectl, "default-route", "banger0", "false"));
    }

    @Test
    void theSameLinkIsConfiguredOnceUntilItIsRecreated() throws Exception {
        resolvedRuns();
        HostResolverHook hook = hook();

        hook.apply("banger0", dns);
        hook.apply("banger0", dns);
        assertThat(ran).hasSize(3);

        Files.writeString(host.resolve("sys/class/net/banger0/ifindex"), "9\n");
        hook.apply("banger0", dns);
        assertThat(ran).as("a re-created bridge lost resolved's per-link settings").hasSize(6);
    }

    @Test
    void withoutResolvedNothingRunsAndTheReasonIsGiven() {
        HostResolverHook.Outcome outcome = hook().apply("banger0", dns);

        assertThat(ran).isEmpty();
        assertThat(outcome.configured()).isFalse();
        assertThat(outcome.detail()).contains("systemd-resolved is not running", "127.0.0.1:5553",
                "banger ssh-config install");
    }

    @Test
    void aMissingLinkWaitsForTheFirstVm() throws Exception {
        resolvedRuns();

        HostResolverHook.Outcome outcome = hook().apply("nolink0", dns);

        assertThat(ran).isEmpty();
        assertThat(outcome.detail()).contains("nolink0 does not exist yet");
    }

    @Test
    void anOldResolvedWithoutDefaultRouteStillGetsTheDomain() throws Exception {
        resolvedRuns();
        failing.add("default-route");

        assertThat(hook().apply("banger0", dns).configured()).isTrue();
    }

    @Test
    void aRefusingResolvedIsReportedNotThrown() throws Exception {
        resolvedRuns();
        failing.add("dns");

        HostResolverHook.Outcome outcome = hook().apply("banger0", dns);

        assertThat(outcome.configured()).isFalse();
        assertThat(outcome.detail()).contains("refused");
    }
}
