package dev.banger.api;

/**
 * {@code session.attach}: the session's output as {@link Event.Output} events (its buffered output first when
 * {@code replay}), the client's {@code Input}s to it. The client detaches by closing the call; the session goes
 * on.
 *
 * @param rows the client's terminal rows, applied to a session on a terminal (0: leave its size)
 * @param cols the client's terminal columns
 */
public record SessionAttachRequest(String vm, String session, boolean replay, int rows, int cols) {
}
