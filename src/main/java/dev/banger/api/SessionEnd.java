package dev.banger.api;

/**
 * How an attach or logs call ended.
 *
 * @param detached the client detached (attach) and the session goes on
 * @param exitCode the session's exit code once it has ended, else null
 * @param signal the signal that killed it, or null
 * @param lostBytes output the guest's buffer dropped before it could be delivered
 */
public record SessionEnd(boolean detached, Integer exitCode, Integer signal, long lostBytes) {
}
