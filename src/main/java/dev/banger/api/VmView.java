package dev.banger.api;

/**
 * A VM as the CLI shows it: the durable record plus what is live right now.
 *
 * @param state the record's state, except {@value #PAUSED} while the VM's VMM has paused its guest (the record
 *     still says running: a pause is a runtime condition, not an intent)
 * @param pauseReason why it is paused, in a few words ("host disk full"), or null when it is not
 * @param pauseDetail what the VMM reported and how the VM resumes, in one line, or null when it is not paused
 * @param pid the VMM process id while it runs, else null
 * @param lastError the last failure, or null
 * @param operation the create in progress ("op-1a2b3c4d: waiting for the guest agent"), or null
 * @param started how the running VM started ("booting (3.41 s to ready)", "restoring from template 1a2b3c4d5e6f
 *     (0.52 s to ready)"), or null when it is not running
 */
public record VmView(String id, String name, String state, String pauseReason, String pauseDetail, String vmm,
                     String image, String kernel, int cpus, int memoryMib, long diskMib, String guestIp,
                     String dnsName, String vmDir, String logPath, Long pid, String lastError, String createdAt,
                     String updatedAt, String operation, String started) {

    /** The state shown for a running VM whose guest its VMM has paused. */
    public static final String PAUSED = "paused";
}
