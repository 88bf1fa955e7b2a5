package dev.banger.api;

/**
 * {@code vm.logs}: the serial console log, as {@link Event.Output} events.
 *
 * @param follow keep sending new output until the client disconnects
 */
public record VmLogsRequest(String name, boolean follow) {
}
