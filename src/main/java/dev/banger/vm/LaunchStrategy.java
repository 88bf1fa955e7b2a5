package dev.banger.vm;

import dev.banger.guest.AgentClient;
import dev.banger.vmm.VmmHandle;
import java.io.IOException;

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

    /** Before the root disk is attached: a restore puts the template's disk state in place. */
    default void prepareRootDisk(VmBoot.Boot boot) throws IOException {
    }

    /**
     * Once the guest's agent answers and before anything else runs in the guest: what makes the guest itself. A
     * cold boot took its identity from the kernel command line; a restored guest gets it here.
     *
     * @return what was done, for the boot's log and progress ("" for nothing)
     */
    default String personalise(VmBoot.Boot boot, AgentClient agent) throws IOException {
        return "";
    }
}
