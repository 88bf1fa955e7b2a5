package dev.banger.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import dev.banger.host.Command;
import dev.banger.host.CommandResult;
import dev.banger.host.ProcessCommandRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KnownHostsTest {

    @TempDir
    Path dir;

    private KnownHosts knownHosts() {
        return new KnownHosts(dir.resolve("known_hosts"), dir.resolve(".lock"));
    }

    @Test
    void pin_writesOneLineForTheNameAndTheIpThatSshKeygenFinds() {
        SshKeyPair host = SshKeyPair.generate("root@demo");
        KnownHosts kh = knownHosts();

        kh.pin("a1b2c3", List.of("demo.vm", "172.30.77.2"), host.publicKey());

        assertThat(kh.lines()).containsExactly("demo.vm,172.30.77.2 " + host.publicKey().replace(" root@demo", "")
                + " banger-vm:a1b2c3");
        for (String name : List.of("demo.vm", "172.30.77.2")) {
            CommandResult found = find(name);
            assertThat(found.exitCode()).as("ssh-keygen -F " + name).isZero();
            assertThat(found.stdoutText()).contains(SshKeyPair.keyData(host.publicKey()));
        }
        assertThat(find("[172.30.77.2]:2222").exitCode()).as("other ports are not pinned").isNotZero();
    }

    @Test
    void pin_replacesTheVmsOldLineAndAnyLineForAReusedIp() throws Exception {
        KnownHosts kh = knownHosts();
        Files.writeString(kh.file(), "# my notes\nexample.org ssh-ed25519 AAAAkeep\n");
        kh.pin("old", List.of("old.vm", "172.30.77.5"), SshKeyPair.generate("x").publicKey());
        SshKeyPair fresh = SshKeyPair.generate("y");

        kh.pin("new", List.of("new.vm", "172.30.77.5"), fresh.publicKey());

        assertThat(kh.lines()).hasSize(3).startsWith("# my notes", "example.org ssh-ed25519 AAAAkeep");
        assertThat(kh.lines().get(2)).startsWith("new.vm,172.30.77.5 ").endsWith(" banger-vm:new");
    }

    @Test
    void forget_removesOnlyThatVmsLine() throws Exception {
        KnownHosts kh = knownHosts();
        Files.writeString(kh.file(), "example.org ssh-ed25519 AAAAkeep\n");
        kh.pin("one", List.of("one.vm", "172.30.77.2"), SshKeyPair.generate("1").publicKey());
        kh.pin("two", List.of("two.vm", "172.30.77.3"), SshKeyPair.generate("2").publicKey());

        kh.forget("one");
        kh.forget("never-existed");

        assertThat(kh.lines()).hasSize(2).first().isEqualTo("example.org ssh-ed25519 AAAAkeep");
        assertThat(kh.lines().get(1)).startsWith("two.vm,");
        assertThat(find("one.vm").exitCode()).isNotZero();
    }

    private CommandResult find(String host) {
        return new ProcessCommandRunner().run(Command.of("ssh-keygen", "-F", host, "-f",
                dir.resolve("known_hosts").toString()).allowingFailure());
    }
}
