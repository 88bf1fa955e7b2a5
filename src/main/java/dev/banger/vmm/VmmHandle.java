package dev.banger.vmm;

import dev.banger.model.VmmKind;
import java.nio.file.Path;
import java.util.Objects;

/**
 * What is currently true about a running VMM process; kept in memory and in the VM's {@code handles.json}, never
 * in the database. {@code startTicks} pins the PID to one process so a recycled PID is never mistaken for it.
 *
 * @param vmId the VM's id
 * @param kind which VMM runs it
 * @param pid the VMM's process id
 * @param startTicks the process's start time from {@code /proc/<pid>/stat} (clock ticks since boot)
 * @param controlSocket QMP or Firecracker API socket
 * @param agentSocket guest agent socket
 * @param consoleLog serial console file
 */
public record VmmHandle(String vmId, VmmKind kind, long pid, long startTicks, Path controlSocket,
                        Path agentSocket, Path consoleLog) {

    public VmmHandle {
        Objects.requireNonNull(vmId, "vmId");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(controlSocket, "controlSocket");
        Objects.requireNonNull(agentSocket, "agentSocket");
        Objects.requireNonNull(consoleLog, "consoleLog");
    }
}
