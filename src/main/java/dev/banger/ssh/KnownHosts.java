package dev.banger.ssh;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * banger's own {@code known_hosts}: one line per VM, {@code NAME.vm,IP ssh-ed25519 KEY banger-vm:ID}, so the
 * first connection is verified without a prompt. Port 22 is implied: ssh looks up a bare host name for port 22
 * and uses the {@code [host]:port} form only for other ports, so no {@code [IP]:22} entry is written. The trailing
 * marker lets banger remove exactly its VM's line; lines banger did not write are kept as they are.
 */
public final class KnownHosts {

    static final String MARKER = "banger-vm:";

    private final Path file;
    private final Path lock;

    /** @param file the known_hosts file; its directory must exist. @param lock the SSH lock file */
    public KnownHosts(Path file, Path lock) {
        this.file = file;
        this.lock = lock;
    }

    public Path file() {
        return file;
    }

    /**
     * Pins {@code hostPublicKey} for {@code hosts} (e.g. {@code demo.vm} and its IP) as VM {@code vmId}'s key,
     * replacing the VM's earlier line and any line naming one of those hosts (an IP reused after a delete).
     */
    public void pin(String vmId, List<String> hosts, String hostPublicKey) {
        String[] key = hostPublicKey.strip().split("\\s+");
        if (key.length < 2) {
            throw new IllegalArgumentException("not a public key line: " + hostPublicKey);
        }
        Set<String> names = hosts.stream().map(h -> h.toLowerCase(Locale.ROOT)).collect(Collectors.toSet());
        for (String h : names) {
            if (h.isEmpty() || h.chars().anyMatch(c -> c == ',' || Character.isWhitespace(c) || c == '#')) {
                throw new IllegalArgumentException("not a known_hosts host name: '" + h + "'");
            }
        }
        String line = String.join(",", hosts.stream().map(h -> h.toLowerCase(Locale.ROOT)).toList()) + " "
                + key[0] + " " + key[1] + " " + MARKER + vmId;
        rewrite(lines -> {
            lines.removeIf(l -> isVmLine(l, vmId) || namesAny(l, names));
            lines.add(line);
        });
    }

    /** Removes VM {@code vmId}'s line; nothing else changes. */
    public void forget(String vmId) {
        rewrite(lines -> lines.removeIf(l -> isVmLine(l, vmId)));
    }

    /** The file's lines (empty when it does not exist). */
    public List<String> lines() {
        try {
            return Files.exists(file) ? Files.readAllLines(file, StandardCharsets.UTF_8) : List.of();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private void rewrite(java.util.function.Consumer<List<String>> edit) {
        SshFiles.locked(lock, () -> {
            List<String> lines = new ArrayList<>(lines());
            List<String> before = List.copyOf(lines);
            edit.accept(lines);
            if (lines.equals(before) && Files.exists(file)) {
                return null;
            }
            try {
                SshFiles.writeAtomically(file, lines.isEmpty() ? "" : String.join("\n", lines) + "\n",
                        SshFiles.FILE_0644);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
            }
            return null;
        });
    }

    private static boolean isVmLine(String line, String vmId) {
        String[] fields = line.strip().split("\\s+");
        return fields.length >= 4 && fields[fields.length - 1].equals(MARKER + vmId);
    }

    private static boolean namesAny(String line, Set<String> names) {
        String stripped = line.strip();
        if (stripped.isEmpty() || stripped.startsWith("#") || stripped.startsWith("@")) {
            return false;
        }
        String hostsField = stripped.split("\\s+")[0];
        for (String h : hostsField.split(",")) {
            if (names.contains(h.toLowerCase(Locale.ROOT))) {
                return true;
            }
        }
        return false;
    }
}
