package dev.banger.guest;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * The identity a guest restored from a template takes, sent in one {@code guest.personalise} request
 * (docs/agent-protocol.md): its hostname, its network (MAC, address with prefix, gateway, DNS servers), the host's
 * wall clock, fresh entropy for the kernel RNG, a machine id of its own, its work disk and whether sshd starts.
 *
 * @param hostname the VM's name (a DNS label)
 * @param network the guest's network, or empty for a VM without one
 * @param hostTime the host's wall clock as of sending
 * @param entropy 32 to 512 random bytes from the host, mixed into the guest's RNG before anything uses it
 * @param machineId 32 hex digits written to /etc/machine-id when the image has one
 * @param workDisk the work disk's device in the guest ({@code /dev/vdb}), mounted on /root
 * @param startSshd whether sshd starts once the work disk (host key, authorized keys) is mounted
 */
public record Personalisation(String hostname, Optional<Network> network, Instant hostTime, byte[] entropy,
                              String machineId, String workDisk, boolean startSshd) {

    /** The wire version of the op this record describes. */
    public static final int VERSION = 1;

    /**
     * @param mac the VM's MAC address
     * @param addressCidr "10.0.0.2/24"
     * @param gateway the bridge's address
     * @param dns comma-separated DNS servers, or empty
     */
    public record Network(String mac, String addressCidr, String gateway, String dns) {
        public Network {
            Objects.requireNonNull(mac, "mac");
            Objects.requireNonNull(addressCidr, "addressCidr");
            Objects.requireNonNull(gateway, "gateway");
            Objects.requireNonNull(dns, "dns");
        }
    }

    public Personalisation {
        Objects.requireNonNull(hostname, "hostname");
        Objects.requireNonNull(network, "network");
        Objects.requireNonNull(hostTime, "hostTime");
        Objects.requireNonNull(machineId, "machineId");
        Objects.requireNonNull(workDisk, "workDisk");
        if (entropy.length < 32 || entropy.length > 512) {
            throw new IllegalArgumentException("entropy must be 32 to 512 bytes, got " + entropy.length);
        }
        if (!machineId.matches("[0-9a-f]{32}")) {
            throw new IllegalArgumentException("machine id must be 32 lowercase hex digits, got " + machineId);
        }
        entropy = entropy.clone();
    }

    @Override
    public byte[] entropy() {
        return entropy.clone();
    }

    @Override
    public String toString() {
        return "Personalisation[" + hostname + ", " + network + ", " + workDisk + ", sshd=" + startSshd + "]";
    }
}
