package dev.banger.guest;

/**
 * How an attach or logs channel ended.
 *
 * @param detached true when this side detached ({@link SessionAttachment#detach()}); the session goes on
 * @param exitStatus the session's exit status when it had ended, else null
 * @param lostBytes output that left the ring buffer before this reader could take it
 */
public record SessionOutcome(boolean detached, ExitStatus exitStatus, long lostBytes) {
}
