package dev.banger.api;

/**
 * {@code vm.set}: change resources. Null fields stay as they are. CPUs and memory need the VM stopped; the work
 * disk can only grow (offline resize2fs), also stopped.
 */
public record VmSetRequest(String name, Integer cpus, Integer memoryMib, Long diskMib) {
}
