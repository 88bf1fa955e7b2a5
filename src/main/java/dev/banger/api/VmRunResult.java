package dev.banger.api;

/**
 * How {@code vm.run} ended.
 *
 * @param name the VM's name
 * @param deleted whether the VM was deleted (--rm)
 */
public record VmRunResult(String name, int exitCode, Integer signal, boolean deleted) {
}
