package dev.banger.guest;

/**
 * A listening TCP socket or a bound UDP socket in the guest.
 *
 * @param protocol "tcp" or "udp"
 * @param address the local address ("0.0.0.0", "::", "127.0.0.1", ...)
 * @param port the local port
 * @param pid a process holding the socket, or null when none was found
 * @param command that process's name (its comm), or null
 */
public record ListeningPort(String protocol, String address, int port, Integer pid, String command) {
}
