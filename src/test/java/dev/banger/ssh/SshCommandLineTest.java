package dev.banger.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import dev.banger.config.BangerPaths;
import dev.banger.host.ProcessCommandRunner;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SshCommandLineTest {

    private final BangerPaths paths = BangerPaths.resolve(Map.of("BANGER_HOME", "/tmp/bh"), "/", 0);

    @Test
    void forVm_pinsKeyAndKnownHostsAndSeparatesTheRemoteCommand() {
        List<String> argv = SshCommandLine.forVm("ssh", paths, "172.30.77.2", List.of("uname", "-a"), false);

        assertThat(argv).containsExactly("ssh",
                "-o", "IdentityFile=/tmp/bh/config/ssh/id_ed25519",
                "-o", "IdentitiesOnly=yes",
                "-o", "UserKnownHostsFile=/tmp/bh/config/ssh/known_hosts",
                "-o", "GlobalKnownHostsFile=/dev/null",
                "-o", "StrictHostKeyChecking=yes",
                "-o", "ConnectTimeout=10",
                "-o", "ConnectionAttempts=5",
                "-o", "BatchMode=yes",
                "root@172.30.77.2", "--", "uname", "-a");
    }

    @Test
    void forVm_interactiveShellHasNoBatchModeAndNoCommand() {
        List<String> argv = SshCommandLine.forVm("/usr/bin/ssh", paths, "172.30.77.9", List.of(), true);

        assertThat(argv).doesNotContain("BatchMode=yes", "--").endsWith("root@172.30.77.9");
    }

    @Test
    void forVm_pathsWithSpacesAndPercentSurviveSshsOwnParsing() {
        BangerPaths odd = BangerPaths.resolve(Map.of("BANGER_HOME", "/tmp/my banger 100%"), "/", 0);
        List<String> argv = SshCommandLine.forVm("ssh", odd, "172.30.77.2", List.of("true"), false);
        List<String> evaluated = new java.util.ArrayList<>(argv.subList(0, argv.indexOf("root@172.30.77.2")));
        evaluated.addAll(List.of("-G", "root@172.30.77.2"));

        String effective = new ProcessCommandRunner().run(evaluated).stdoutText();

        assertThat(effective).as("one argument each, despite the spaces; -G prints IdentityFile before its tokens "
                        + "are expanded (%% → %) and UserKnownHostsFile after")
                .contains("identityfile /tmp/my banger 100%%/config/ssh/id_ed25519\n")
                .contains("userknownhostsfile /tmp/my banger 100%/config/ssh/known_hosts\n")
                .contains("stricthostkeychecking true");
    }
}
