package dev.banger.vm;

import dev.banger.vmm.VmmHandle;

/**
 * How a boot gets a VMM going once the VM's disks and tap are in place: a cold boot of kernel and initramfs today;
 * restoring a captured template is the other way a VM can start.
 */
interface LaunchStrategy {

    /** What progress and {@code vm show} call this way of starting ("booting", "restoring"). */
    String describe();

    /**
     * Starts the VMM for {@code boot}. On failure nothing of the VMM is left running.
     *
     * @return the running VMM, recorded in the handles by the caller
     */
    VmmHandle launch(VmBoot.Boot boot);
}
