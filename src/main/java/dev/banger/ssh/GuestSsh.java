package dev.banger.ssh;

import dev.banger.config.BangerPaths;
import dev.banger.model.Vm;
import java.util.ArrayList;
import java.util.List;

/**
 * The daemon's SSH duties for a VM's life: at provisioning, banger's public key and a fresh host key go into the
 * work-disk seed and the host key is pinned in banger's known_hosts (so the first {@code ssh} is verified, with
 * no prompt); at delete, the pin goes.
 */
public final class GuestSsh {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(GuestSsh.class);

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
        seed.authorize(user.publicKey()).hostKey(hostKey);
        knownHosts().pin(vm.id(), hostNames(vm), hostKey.publicKey());
    }

    /**
     * Removes the VM's pinned host key; a VM that never had one is fine. Never throws: a stale pin must not stop
     * a delete, and the next VM to get the same IP replaces it anyway.
     */
    public void forget(Vm vm) {
        if (!java.nio.file.Files.isDirectory(paths.sshDir())) {
            return;
        }
        try {
            knownHosts().forget(vm.id());
        } catch (RuntimeException e) {
            log.warn("could not remove the host key of VM {} from {}: {}", vm.name(), paths.sshKnownHosts(),
                    e.getMessage());
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
