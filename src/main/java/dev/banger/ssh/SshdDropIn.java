package dev.banger.ssh;

import java.util.List;

/**
 * The sshd policy of every guest: key-only root login with the authorized keys banger manages, nothing else.
 * StrictModes stays on, which is why /root is 0755 root:root and /root/.ssh 0700. banger-init starts sshd with
 * these directives as {@code -o} options, which win over every config file, and writes {@link #TEXT} to
 * {@link #PATH} at every boot for whoever reads the config; image finalisation writes the same file. The C side
 * ({@code guest/src/posture.c}) spells them out again; {@code SshdDropInTest} keeps the two equal.
 */
public final class SshdDropIn {

    /**
     * Where the drop-in lives, relative to the guest's root. Named to sort first: sshd keeps the first value it
     * reads, so an image's {@code 50-cloud-init.conf} cannot override it.
     */
    public static final String PATH = "etc/ssh/sshd_config.d/00-banger.conf";

    /** The directives, one per line, in order. */
    public static final List<String> DIRECTIVES = List.of(
            "PermitRootLogin prohibit-password",
            "PubkeyAuthentication yes",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "AuthorizedKeysFile /root/.ssh/authorized_keys");

    /** The file's content. */
    public static final String TEXT = "# Written by banger-init at every boot; sshd also gets these as -o options, "
            + "which win over any file.\n" + String.join("\n", DIRECTIVES) + "\n";

    private SshdDropIn() {
    }
}
