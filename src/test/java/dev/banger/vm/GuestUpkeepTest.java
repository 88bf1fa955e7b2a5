package dev.banger.vm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.banger.config.BangerPaths;
import dev.banger.guest.AgentClient;
import dev.banger.model.Vm;
import dev.banger.model.VmState;
import dev.banger.model.VmmKind;
import dev.banger.ssh.GuestSsh;
import dev.banger.ssh.SshKeyPair;
import dev.banger.ssh.UserKey;
import dev.banger.testkit.AgentProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** GuestUpkeep against a real banger-init in agent mode (its --home stands for the guest's /root). */
class GuestUpkeepTest {

    @TempDir
    Path dir;
    private AgentProcess agent;
    private AgentClient client;
    private BangerPaths paths;
    private GuestUpkeep upkeep;
    private final Vm vm = vm();

    @BeforeEach
    void setUp() throws Exception {
        agent = AgentProcess.start(dir);
        client = agent.connect();
        paths = BangerPaths.resolve(Map.of("BANGER_HOME", dir.resolve("banger").toString()), "/nonexistent", 0);
        upkeep = new GuestUpkeep(new GuestSsh(paths), Clock.systemUTC());
    }

    @AfterEach
    void tearDown() throws Exception {
        upkeep.close();
        client.close();
        agent.close();
    }

    private Path authorizedKeys() {
        return dir.resolve("home/.ssh/authorized_keys");
    }

    private static String keyLine(UserKey key) {
        return "ssh-ed25519 " + SshKeyPair.keyData(key.publicKey()) + " banger\n";
    }

    @Test
    void connected_authorizesBangersCurrentKey() throws Exception {
        UserKey key = UserKey.ensure(paths);

        upkeep.connected(vm, client);

        assertThat(Files.readString(authorizedKeys())).isEqualTo(keyLine(key));
    }

    @Test
    void authorizeKey_asksTheAgentAgainOnlyWhenTheKeyChanged() throws Exception {
        upkeep.connected(vm, client);
        assertThat(authorizedKeys()).as("no key yet: nothing to authorize").doesNotExist();
        UserKey first = UserKey.ensure(paths);
        upkeep.authorizeKey(vm, client);
        Files.delete(authorizedKeys());

        upkeep.authorizeKey(vm, client);
        assertThat(authorizedKeys()).as("same key, same connection: not asked again").doesNotExist();

        Files.delete(paths.sshPrivateKey());
        Files.delete(paths.sshPublicKey());
        UserKey second = UserKey.ensure(paths);
        upkeep.authorizeKey(vm, client);
        assertThat(Files.readString(authorizedKeys())).isEqualTo(keyLine(second)).isNotEqualTo(keyLine(first));
    }

    @Test
    void syncClock_toleratesAnAgentThatCannotStepAndLeavesTheHostClockAlone() {
        Instant before = Instant.now();
        GuestUpkeep farFuture = new GuestUpkeep(new GuestSsh(paths),
                Clock.fixed(Instant.parse("2100-01-01T00:00:00Z"), java.time.ZoneOffset.UTC));

        farFuture.syncClock(vm, client);
        farFuture.close();

        assertThat(Instant.now()).as("agent mode never sets the clock").isBefore(Instant.parse("2099-01-01T00:00:00Z"))
                .isAfterOrEqualTo(before);
    }

    private static Vm vm() {
        Path d = Path.of("/state/vms/abc");
        Instant t = Instant.EPOCH;
        return new Vm("abc", "demo", VmState.RUNNING, VmmKind.QEMU, null, null, 1, 256, 64, null, null, 0, d,
                d.resolve("control.sock"), d.resolve("agent.sock"), d.resolve("console.log"), "demo.vm",
                d.resolve("root.qcow2"), d.resolve("work.ext4"), null, t, t);
    }
}
