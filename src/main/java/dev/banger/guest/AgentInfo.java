package dev.banger.guest;

/**
 * What a {@code ping} tells about the agent.
 *
 * @param protocol the agent protocol version it speaks
 * @param version banger-init's version
 * @param uptimeMs the guest's uptime in milliseconds
 * @param hostname the guest's hostname (may be empty, never null)
 */
public record AgentInfo(int protocol, String version, long uptimeMs, String hostname) {
}
