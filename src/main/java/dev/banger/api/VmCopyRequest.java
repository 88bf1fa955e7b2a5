package dev.banger.api;

/**
 * {@code vm.copy-in} and {@code vm.copy-out}: a tar archive streamed between the client and a path in the VM
 * (docs/agent-protocol.md, "File copy", says where it lands). Copy-in reads the archive from the client's
 * {@code Input} data and ends at its end-of-input; copy-out sends it as {@link Event.Output} events.
 *
 * @param path an absolute path in the guest
 */
public record VmCopyRequest(String name, String path) {
}
