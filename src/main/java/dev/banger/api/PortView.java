package dev.banger.api;

/**
 * A port open in the guest.
 *
 * @param protocol "tcp" (listening) or "udp" (bound)
 * @param address the local address it is bound to
 * @param pid a guest process holding it, or null when none was found
 * @param command that process's name, or null
 */
public record PortView(String protocol, String address, int port, Integer pid, String command) {
}
