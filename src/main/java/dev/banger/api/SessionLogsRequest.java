package dev.banger.api;

/**
 * {@code session.logs}: the session's buffered output as {@link Event.Output} events; with {@code follow}, then
 * its live output until it ends (or the client goes away).
 */
public record SessionLogsRequest(String vm, String session, boolean follow) {
}
