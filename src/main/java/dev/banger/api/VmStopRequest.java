package dev.banger.api;

/**
 * {@code vm.stop} and {@code vm.restart}.
 *
 * @param force kill the VMM at once instead of asking the guest to power off
 */
public record VmStopRequest(String name, boolean force) {
}
