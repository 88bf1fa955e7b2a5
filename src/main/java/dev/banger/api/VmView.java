package dev.banger.api;

/**
 * A VM as the CLI shows it: the durable record plus what is live right now.
 *
 * @param pid the VMM process id while it runs, else null
 * @param lastError the last failure, or null
 * @param operation the create in progress ("op-1a2b3c4d: waiting for the guest agent"), or null
 * @param started how the running VM started ("booting (3.41 s to ready)", "restoring from template 1a2b3c4d5e6f
 *     (0.52 s to ready)"), or null when it is not running
 */
public record VmView(String id, String name, String state, String vmm, String image, String kernel, int cpus,
                     int memoryMib, long diskMib, String guestIp, String dnsName, String vmDir, String logPath,
                     Long pid, String lastError, String createdAt, String updatedAt, String operation, String started) {
}
