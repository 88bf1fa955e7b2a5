package dev.banger.api;

/**
 * Opens a TCP connection from the daemon to a port of a running VM and streams it over the call (what
 * {@code banger vm ssh-proxy} uses for ssh's ProxyCommand): client input frames are sent to the guest, guest
 * bytes come back as output events.
 *
 * @param name the VM
 * @param port the guest's TCP port (null means 22)
 */
public record VmConnectRequest(String name, Integer port) {
}
