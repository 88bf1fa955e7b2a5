package dev.banger.api;

/**
 * {@code vm.stats}: a VM's resource use now.
 *
 * @param cpuPercent the VMM process's CPU use over a short sample (100 = one host core), -1 when stopped
 * @param vmmRssBytes resident memory of the VMM process, -1 when stopped
 * @param guestMemTotalBytes the guest's MemTotal, -1 when unknown
 * @param guestMemAvailableBytes the guest's MemAvailable, -1 when unknown
 * @param diskBytes bytes the VM's files take on the host (allocated, not apparent)
 * @param netRxBytes bytes the guest sent (the tap's receive counter), -1 without a tap
 * @param netTxBytes bytes sent to the guest, -1 without a tap
 */
public record VmStats(String name, String state, double cpuPercent, long vmmRssBytes, long guestMemTotalBytes,
                     long guestMemAvailableBytes, long diskBytes, long netRxBytes, long netTxBytes) {
}
