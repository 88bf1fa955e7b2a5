package dev.banger.ssh;

import dev.banger.config.BangerPaths;
import java.util.ArrayList;
import java.util.List;

/**
 * The system OpenSSH client's argv for {@code banger vm ssh}: banger's key only, banger's known_hosts only, the
 * host key checked strictly (it was pinned at provisioning, so there is never a prompt), root at the guest's IP.
 * The argv is run directly, never through a local shell. Paths go through {@code -o} in ssh_config syntax (as
 * {@code -i} would too, ssh expands {@code %} tokens in them), so a config dir with spaces works.
 */
public final class SshCommandLine {

    private SshCommandLine() {
    }

    /**
     * @param ssh the ssh program (path or name)
     * @param guestIp the VM's address
     * @param command the remote command (run by the guest user's shell, as ssh does), or empty for a login shell
     * @param interactive false when nobody can answer a prompt: adds {@code BatchMode=yes}
     */
    public static List<String> forVm(String ssh, BangerPaths paths, String guestIp, List<String> command,
                                      boolean interactive) {
        if (guestIp == null || guestIp.isBlank()) {
            throw new IllegalArgumentException("the VM has no IP address");
        }
        List<String> argv = new ArrayList<>(List.of(ssh,
                "-o", "IdentityFile=" + SshConfigSyntax.path(paths.sshPrivateKey()),
                "-o", "IdentitiesOnly=yes",
                "-o", "UserKnownHostsFile=" + SshConfigSyntax.path(paths.sshKnownHosts()),
                "-o", "GlobalKnownHostsFile=/dev/null",
                "-o", "StrictHostKeyChecking=yes",
                "-o", "ConnectTimeout=10",
                // sshd listens a few seconds after the guest agent answers (under TCG); ssh retries once a second.
                "-o", "ConnectionAttempts=5"));
        if (!interactive) {
            argv.addAll(List.of("-o", "BatchMode=yes"));
        }
        argv.add("root@" + guestIp);
        if (!command.isEmpty()) {
            argv.add("--");
            argv.addAll(command);
        }
        return argv;
    }
}
