package dev.banger.model;

import java.nio.file.Path;
import java.time.Instant;

/**
 * The durable record of a VM: what it IS (identity, intent, resources, deterministic paths, last error).
 * What is currently true about it (VMM pid, tap, loop devices) is never here; see the VM service's handles.
 *
 * @param id short random hex id; names the VM's directories
 * @param imageName image of the root disk, or null when none was resolved yet
 * @param kernelName kernel to boot, or null when none was resolved yet
 * @param guestIp guest address, or null while the VM has no network
 * @param mac guest MAC, or null while the VM has no network
 * @param vsockCid vsock context id, or 0 when none is allocated
 * @param controlSocket the VMM's control socket (QEMU QMP, Firecracker API)
 * @param agentSocket host end of the guest agent channel (QEMU virtio-serial chardev, Firecracker vsock UDS)
 * @param lastError the last failure, or null
 */
public record Vm(
        String id,
        String name,
        VmState state,
        VmmKind vmm,
        String imageName,
        String kernelName,
        int cpus,
        int memoryMib,
        long diskMib,
        String guestIp,
        String mac,
        long vsockCid,
        Path vmDir,
        Path controlSocket,
        Path agentSocket,
        Path logPath,
        String dnsName,
        Path rootDiskPath,
        Path workDiskPath,
        String lastError,
        Instant createdAt,
        Instant updatedAt) {

    public static final String DNS_SUFFIX = ".vm";

    public static String dnsNameOf(String name) {
        return name + DNS_SUFFIX;
    }

    public Vm withResources(int newCpus, int newMemoryMib, long newDiskMib, Instant now) {
        return new Vm(id, name, state, vmm, imageName, kernelName, newCpus, newMemoryMib, newDiskMib, guestIp, mac,
                vsockCid, vmDir, controlSocket, agentSocket, logPath, dnsName, rootDiskPath, workDiskPath, lastError,
                createdAt, now);
    }

    public Vm withState(VmState newState, String error, Instant now) {
        return new Vm(id, name, newState, vmm, imageName, kernelName, cpus, memoryMib, diskMib, guestIp, mac,
                vsockCid, vmDir, controlSocket, agentSocket, logPath, dnsName, rootDiskPath, workDiskPath, error,
                createdAt, now);
    }
}
