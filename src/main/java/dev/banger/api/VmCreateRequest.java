package dev.banger.api;

/**
 * {@code vm.create}. Null fields take the daemon's defaults.
 *
 * @param image image name, or null for the default image
 * @param kernel kernel name, or null for the default kernel
 * @param memoryMib guest memory in MiB
 * @param diskMib size of the work disk in MiB
 * @param vmm "qemu" or "firecracker", or null for the daemon's choice ({@code defaultVmm}, else by host and
 *     kernel: see {@code VmmChooser})
 * @param noStart record and provision the VM without booting it
 * @param cold boot the kernel even when a template could restore the VM (docs/snapshots.md)
 */
public record VmCreateRequest(String name, String image, String kernel, Integer cpus, Integer memoryMib,
                              Long diskMib, String vmm, boolean noStart, boolean cold) {
}
