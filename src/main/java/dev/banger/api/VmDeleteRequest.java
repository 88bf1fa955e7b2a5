package dev.banger.api;

import java.util.List;

/**
 * {@code vm.delete}: every named VM is torn down and removed.
 *
 * @param force stop running VMs first instead of refusing
 */
public record VmDeleteRequest(List<String> names, boolean force) {
}
