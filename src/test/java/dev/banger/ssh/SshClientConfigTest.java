package dev.banger.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import dev.banger.config.BangerPaths;
import dev.banger.host.ProcessCommandRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SshClientConfigTest {

    @TempDir
    Path home;

    @Test
    void render_isTheHostVmStanza() {
        BangerPaths paths = BangerPaths.resolve(Map.of("BANGER_HOME", "/tmp/bh"), "/", 0);

        String text = SshClientConfig.render(paths, "/opt/banger/bin/banger", Map.of("BANGER_HOME", "/tmp/bh"));

        assertThat(text.lines().filter(l -> !l.startsWith("#"))).containsExactly(
                "Host *.vm",
                "    User root",
                "    IdentityFile /tmp/bh/config/ssh/id_ed25519",
                "    IdentitiesOnly yes",
                "    UserKnownHostsFile /tmp/bh/config/ssh/known_hosts",
                "    StrictHostKeyChecking yes",
                "    ProxyCommand env BANGER_HOME=/tmp/bh /opt/banger/bin/banger vm ssh-proxy %h");
    }

    @Test
    void includedFromAUserConfig_sshAppliesItToNameDotVmOnly() throws Exception {
        BangerPaths paths = BangerPaths.resolve(Map.of("BANGER_HOME", home.resolve("odd 'home'").toString()), "/", 0);
        Path written = SshClientConfig.write(paths, "/opt/banger/bin/banger", Map.of("BANGER_HOME",
                paths.configDir().getParent().toString()));
        Path user = home.resolve("user-ssh/config");
        Files.createDirectories(user.getParent());
        Files.writeString(user, "Host *\n    User someone\n");
        UserSshConfig.install(user, written);

        String vm = new ProcessCommandRunner().run("ssh", "-G", "-F", user.toString(), "demo.vm").stdoutText();
        String other = new ProcessCommandRunner().run("ssh", "-G", "-F", user.toString(), "example.com").stdoutText();

        assertThat(vm).contains("\nuser root\n", "\nstricthostkeychecking true\n", "\nidentitiesonly yes\n")
                .contains("\nuserknownhostsfile " + paths.sshKnownHosts() + "\n")
                .contains("\nproxycommand env 'BANGER_HOME=" + home + "/odd '\\''home'\\''' /opt/banger/bin/banger "
                        + "vm ssh-proxy %h\n");
        assertThat(other).as("the user's own Host * applies elsewhere").contains("\nuser someone\n")
                .doesNotContain("ssh-proxy");
    }
}
