package dev.banger.host.network;

/**
 * A VM's identity on the guest network, persisted with the VM: unique among VMs, freed when it is deleted.
 *
 * @param ip IPv4 address on the bridge's subnet
 * @param mac locally administered MAC derived from the address
 * @param cid vsock context id (3 and up; 0-2 are reserved)
 */
public record GuestAddress(String ip, String mac, long cid) {
}
