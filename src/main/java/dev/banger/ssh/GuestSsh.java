package dev.banger.ssh;

import dev.banger.config.BangerPaths;
import dev.banger.model.Vm;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The daemon's SSH duties for a VM's life: at provisioning, banger's public key and a fresh host key go into the
 * work-disk seed and the host key is pinned in banger's known_hosts (so the first {@code ssh} is verified, with
 * no prompt); while the VM runs and at each start, its authorized_keys is made to hold banger's current key
 * ({@link #currentUserKey()}); at delete, the pin goes.
 */
public final class GuestSsh {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(GuestSsh.class);

    /**
     * The comment that marks banger's line in a guest's authorized_keys: {@code ssh.authorize} replaces another
     * key with this comment (banger's earlier one) and leaves every other line alone.
     */
    public static final String AUTHORIZED_COMMENT = UserKey.COMMENT;

    private final BangerPaths paths;

    public GuestSsh(BangerPaths paths) {
        this.paths = paths;
    }

    /**
     * Seeds {@code seed} (the VM's future /root) with {@code .ssh/authorized_keys} and the VM's new host key, and
     * pins that key for {@code NAME.vm} and the VM's IP. Creates banger's user key on first use.
     *
     * @throws java.io.UncheckedIOException when the config dir or the seed cannot be written
     */
    public void provision(Vm vm, WorkDiskSeed seed) {
        UserKey user = UserKey.ensure(paths);
        SshKeyPair hostKey = SshKeyPair.generate("root@" + vm.name());
        String[] fields = user.publicKey().strip().split("\\s+");
        // Marked as banger's line, so a key rotation later replaces exactly it (ssh.authorize).
        seed.authorize(fields[0] + " " + SshKeyPair.keyData(user.publicKey()) + " " + AUTHORIZED_COMMENT)
                .hostKey(hostKey);
        knownHosts().pin(vm.id(), hostNames(vm), hostKey.publicKey());
    }

    /**
     * Removes the VM's pinned host key; a VM that never had one is fine. Never throws: a stale pin must not stop
     * a delete, and the next VM to get the same IP replaces it anyway.
     */
    public void forget(Vm vm) {
        if (!Files.isDirectory(paths.sshDir())) {
            return;
        }
        try {
            knownHosts().forget(vm.id());
        } catch (RuntimeException e) {
            log.warn("could not remove the host key of VM {} from {}: {}", vm.name(), paths.sshKnownHosts(),
                    e.getMessage());
        }
    }

    /**
     * Banger's current public key as its {@code .pub} file says ("TYPE BASE64", no comment), or empty when there
     * is none yet or it is not a key: what running guests are made to trust ({@link #AUTHORIZED_COMMENT}).
     */
    public Optional<String> currentUserKey() {
        try {
            String line = Files.readString(paths.sshPublicKey(), StandardCharsets.UTF_8)
                    .strip();
            String[] fields = line.split("\\s+");
            return Optional.of(fields[0] + " " + SshKeyPair.keyData(line));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException | IllegalArgumentException e) {
            log.warn("cannot read banger's public key {}: {}", paths.sshPublicKey(), e.getMessage());
            return Optional.empty();
        }
    }

    public KnownHosts knownHosts() {
        return new KnownHosts(paths.sshKnownHosts(), paths.sshLock());
    }

    /** The names ssh may look the VM up by: its DNS name and, with a network, its IP. */
    static List<String> hostNames(Vm vm) {
        List<String> names = new ArrayList<>();
        names.add(vm.dnsName());
        if (vm.guestIp() != null) {
            names.add(vm.guestIp());
        }
        return names;
    }
}
