package dev.banger.ssh;

import dev.banger.config.BangerPaths;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * banger's own ssh client config ({@code config/ssh/config}), which the user's {@code ~/.ssh/config} includes:
 * one {@code Host *.vm} stanza with banger's key, banger's known_hosts checked strictly, and a
 * {@code ProxyCommand} that reaches the guest's port 22 through the daemon ({@code banger vm ssh-proxy %h}).
 * The proxy makes {@code ssh NAME.vm} work without DNS and from any network namespace: the daemon is the one
 * process sure to reach the guest network. ssh checks the host key under the name the user typed
 * ({@code NAME.vm}, lower-cased), which banger pinned at provisioning.
 */
public final class SshClientConfig {

    /** The environment variables that select a banger installation; the proxy gets the same ones. */
    static final List<String> INSTALLATION_ENV = List.of("BANGER_HOME", "BANGER_BUILD_DIR");

    private SshClientConfig() {
    }

    /**
     * The config text.
     *
     * @param launcher how to run the banger CLI (an absolute path, or a name on PATH)
     * @param env the installation's environment (only {@link #INSTALLATION_ENV} entries are used)
     * @throws IllegalArgumentException when a path cannot be written in ssh_config syntax
     */
    public static String render(BangerPaths paths, String launcher, Map<String, String> env) {
        return "# banger: how ssh reaches banger's VMs as NAME.vm. Written by 'banger ssh-config install', which\n"
                + "# also puts an Include of this file at the top of ~/.ssh/config. Edits here are overwritten.\n"
                + "Host *.vm\n"
                + "    User root\n"
                + "    IdentityFile " + SshConfigSyntax.path(paths.sshPrivateKey()) + "\n"
                + "    IdentitiesOnly yes\n"
                + "    UserKnownHostsFile " + SshConfigSyntax.path(paths.sshKnownHosts()) + "\n"
                + "    StrictHostKeyChecking yes\n"
                + "    ProxyCommand " + proxyCommand(launcher, env) + "\n";
    }

    /** Writes {@link #render} to {@link BangerPaths#sshClientConfig()} (0644) and returns that path. */
    public static Path write(BangerPaths paths, String launcher, Map<String, String> env) {
        String text = render(paths, launcher, env);
        try {
            SshFiles.ensurePrivateDir(paths.sshDir());
            SshFiles.writeAtomically(paths.sshClientConfig(), text, SshFiles.FILE_0644);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + paths.sshClientConfig() + ": " + e.getMessage(), e);
        }
        return paths.sshClientConfig();
    }

    /** The ProxyCommand line: ssh runs it with {@code $SHELL -c "exec ..."}, after expanding {@code %h}. */
    static String proxyCommand(String launcher, Map<String, String> env) {
        List<String> words = new ArrayList<>();
        List<String> assignments = new ArrayList<>();
        for (String name : INSTALLATION_ENV) {
            String value = env.get(name);
            if (value != null && !value.isBlank()) {
                assignments.add(SshConfigSyntax.shellWord(name + "=" + value));
            }
        }
        if (!assignments.isEmpty()) {
            words.add("env");
            words.addAll(assignments);
        }
        words.add(SshConfigSyntax.shellWord(launcher));
        words.addAll(List.of("vm", "ssh-proxy", "%h"));
        return String.join(" ", words);
    }
}
