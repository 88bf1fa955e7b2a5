package dev.banger.host.network;

import java.util.Set;

/**
 * Picks the lowest free guest address and CID. Deterministic given what is taken; uniqueness across concurrent
 * creates comes from the caller serialising allocate-and-insert (and the store's UNIQUE constraints as a backstop).
 */
public final class AddressAllocator {

    /** First guest CID: 0, 1 and 2 are the hypervisor, local and host. */
    static final long FIRST_CID = 3;

    private final NetworkConfig config;

    public AddressAllocator(NetworkConfig config) {
        this.config = config;
    }

    /**
     * @param usedIps addresses held by existing VMs
     * @param usedCids CIDs held by existing VMs
     * @throws IllegalStateException when the subnet is full
     */
    public GuestAddress allocate(Set<String> usedIps, Set<Long> usedCids) {
        Ipv4Network net = config.subnet();
        for (int offset = 2; offset < net.size() - 1; offset++) {
            String ip = net.address(offset);
            if (!usedIps.contains(ip)) {
                long cid = FIRST_CID;
                while (usedCids.contains(cid)) {
                    cid++;
                }
                return new GuestAddress(ip, macFor(ip), cid);
            }
        }
        throw new IllegalStateException("the guest network " + net + " is full (" + usedIps.size() + " VMs); "
                + "delete VMs or configure a larger \"subnet\"");
    }

    /** 02:b4:6e + the address's low three octets: locally administered, unique where the address is. */
    static String macFor(String ip) {
        int a = Ipv4Network.toInt(ip);
        return String.format("02:b4:6e:%02x:%02x:%02x", (a >>> 16) & 255, (a >>> 8) & 255, a & 255);
    }
}
