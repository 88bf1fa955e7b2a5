package dev.banger.api;

/**
 * {@code session.kill}.
 *
 * @param signal a signal name ("TERM", "SIGKILL", "int") or number; null for TERM
 */
public record SessionKillRequest(String vm, String session, String signal) {
}
