package dev.banger.ssh;

import java.util.List;

/**
 * The sshd configuration banger installs into every guest image that has sshd: key-only root login with the
 * authorized keys banger manages, nothing else. StrictModes stays on, which is why /root is 0755 root:root.
 */
public final class SshdDropIn {

    /** Where the drop-in lives, relative to the guest's root. */
    public static final String PATH = "etc/ssh/sshd_config.d/99-banger.conf";

    /** The directives, one per line, in order. */
    public static final List<String> DIRECTIVES = List.of(
            "PermitRootLogin prohibit-password",
            "PubkeyAuthentication yes",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "AuthorizedKeysFile /root/.ssh/authorized_keys");

    /** The file's content. */
    public static final String TEXT = "# Installed by banger: key-only root login with banger's key.\n"
            + String.join("\n", DIRECTIVES) + "\n";

    private SshdDropIn() {
    }
}
