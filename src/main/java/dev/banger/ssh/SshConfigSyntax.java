package dev.banger.ssh;

import java.nio.file.Path;

/**
 * How a value is written in ssh_config (and in {@code ssh -o}): {@code %} starts a token in file options
 * (IdentityFile, UserKnownHostsFile, Include...), so a literal one is {@code %%}; whitespace separates arguments
 * unless the value is double-quoted; a double quote or a line break cannot be expressed at all.
 */
final class SshConfigSyntax {

    private SshConfigSyntax() {
    }

    /** A file path as one ssh_config argument. @throws IllegalArgumentException for an inexpressible path */
    static String path(Path path) {
        String s = path.toString();
        check(s);
        String escaped = s.replace("%", "%%");
        return escaped.chars().anyMatch(Character::isWhitespace) ? "\"" + escaped + "\"" : escaped;
    }

    /** A value for a shell command line inside ProxyCommand: single-quoted, with ssh's % escaped. */
    static String shellWord(String s) {
        check(s);
        String escaped = s.replace("%", "%%");
        if (!escaped.isEmpty() && escaped.chars().allMatch(c -> Character.isLetterOrDigit(c)
                || "/._-+=:,@%".indexOf(c) >= 0)) {
            return escaped;
        }
        return "'" + escaped.replace("'", "'\\''") + "'";
    }

    private static void check(String s) {
        if (s.chars().anyMatch(c -> c == '"' || c == '\n' || c == '\r' || c == 0)) {
            throw new IllegalArgumentException("ssh cannot use the path " + s.replace("\n", "\\n")
                    + " (it contains a double quote or a line break); set BANGER_HOME to a plainer directory");
        }
    }
}
