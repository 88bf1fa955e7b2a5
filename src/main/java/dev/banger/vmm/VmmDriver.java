package dev.banger.vmm;

import dev.banger.guest.AgentTransport;
import dev.banger.model.VmmKind;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * Starts and controls one kind of VMM. Implementations hold no per-VM state: everything needed later is in the
 * {@link VmmHandle}, so a restarted daemon can pick up VMs from their handles. The VMM runs detached from the
 * daemon (own session, no inherited terminal or pipes): a daemon restart or {@code kill -9} leaves it running.
 * All methods may be called from any thread; calls for one VM are serialised by the VM service's per-VM lock.
 */
public interface VmmDriver {

    VmmKind kind();

    /**
     * Validates {@code spec}, removes stale sockets, starts the VMM and returns once its control socket answers.
     * On failure nothing is left running and the sockets are removed.
     *
     * @throws InvalidVmSpecException when the spec cannot be launched
     * @throws VmmException when the VMM fails to start; the message carries the VMM's own error line
     */
    VmmHandle launch(VmSpec spec);

    /** Whether this driver can capture guests and restore them ({@link #capture}, {@link #restore}). */
    default boolean canCapture() {
        return false;
    }

    /** The VMM's program on this host, when found; a template records its digest (a new build, a new template). */
    default Optional<Path> program() {
        return Optional.empty();
    }

    /**
     * How this driver runs guests, as far as a restored guest must match its template (QEMU: the accelerator and
     * the TSC frequency given to TCG guests); part of a template's key.
     */
    default String snapshotMode() {
        return "";
    }

    /**
     * Like {@link #launch}, for a guest that will be captured as a template: its RAM lives in
     * {@code snapshot.memory()} (QEMU: a shared file mapping written through as the guest runs).
     *
     * @throws VmmException when this VMM cannot capture guests, or fails to start
     */
    default VmmHandle launchForCapture(VmSpec spec, Snapshot snapshot) {
        throw new VmmException(kind().wireName() + " cannot capture guests as templates yet");
    }

    /**
     * Pauses the guest and writes what {@link #restore} needs into {@code snapshot}; the guest stays paused and the
     * caller then terminates the VMM. The disks are flushed and not written again after this returns.
     *
     * @throws VmmException when the capture fails; the VMM may still run and must be terminated
     */
    default void capture(VmmHandle handle, Snapshot snapshot) {
        throw new VmmException(kind().wireName() + " cannot capture guests as templates yet");
    }

    /**
     * Starts a VMM for {@code spec} from {@code snapshot} instead of booting: RAM mapped copy-on-write from the
     * snapshot's memory file (never written), device state loaded, then resumed. {@code spec} must have the
     * captured guest's devices in the same order, its cpus, memory, kernel, initrd and command line; its disks,
     * sockets and network device are the new VM's own. Returns once the guest runs. On failure nothing is left
     * running.
     */
    default VmmHandle restore(VmSpec spec, Snapshot snapshot) {
        throw new VmmException(kind().wireName() + " cannot restore guests from templates yet");
    }

    /** True when the handle's process still exists (and is the same process) and its control socket answers. */
    boolean isAlive(VmmHandle handle);

    /**
     * True while the handle's process exists and is the same process (pid and start time): whether the VM runs.
     * A control socket slow to answer does not make a VMM dead; {@link #isAlive} also asks it.
     */
    default boolean isRunning(VmmHandle handle) {
        return VmmProcess.running(handle.pid(), handle.startTicks());
    }

    /**
     * Asks the guest to power off (ACPI power button / Ctrl-Alt-Del) and returns at once. The guest may ignore it:
     * follow with {@link #awaitExit} and then {@link #terminate}.
     */
    void requestPowerdown(VmmHandle handle);

    /**
     * Stops the VMM: SIGTERM, then SIGKILL once {@code grace} has passed; returns when the process is gone and its
     * sockets are removed. Does nothing (but still cleans up) when the process has already exited.
     */
    default void terminate(VmmHandle handle, Duration grace) {
        VmmProcess.terminate(handle.pid(), handle.startTicks(), grace);
        removeSockets(handle);
    }

    /**
     * Waits up to {@code timeout} for the VMM to exit by itself; when it has, removes its sockets.
     *
     * @return true when the process is gone
     */
    default boolean awaitExit(VmmHandle handle, Duration timeout) {
        boolean gone = VmmProcess.awaitGone(handle.pid(), handle.startTicks(), timeout);
        if (gone) {
            removeSockets(handle);
        }
        return gone;
    }

    /**
     * Starts listening to what the VMM reports about its guest pausing (a full host disk, an I/O error, a pause
     * through its monitor) and resuming. Empty when this VMM cannot report pauses (Firecracker: its guest never
     * pauses by itself, and banger does not pause it).
     *
     * @throws VmmException when the VMM does not answer now; try again later
     */
    default Optional<PauseReports> pauseReports(VmmHandle handle) {
        return Optional.empty();
    }

    /**
     * Resumes a paused guest (QEMU: QMP {@code cont}); a guest paused by a full disk retries its failed writes.
     *
     * @throws VmmException when the VMM cannot resume guests or did not answer
     */
    default void resume(VmmHandle handle) {
        throw new VmmException("the " + kind().wireName() + " VMM cannot resume a paused guest");
    }

    /**
     * How to reach the guest agent of the VM {@code handle} names: QEMU's virtio-serial chardev socket, or
     * Firecracker's hybrid vsock socket with {@code CONNECT <port>}. Cheap; opens nothing until used.
     */
    AgentTransport agentTransport(VmmHandle handle);

    /**
     * Checks this host can run the VMM at all (its program is installed), before anything is provisioned.
     *
     * @throws VmmException saying what to install
     */
    void requireAvailable();

    /** VMMs (QEMU, Firecracker) leave their listening sockets behind when they exit or are killed. */
    private static void removeSockets(VmmHandle handle) {
        for (java.nio.file.Path socket : java.util.List.of(handle.controlSocket(), handle.agentSocket())) {
            try {
                java.nio.file.Files.deleteIfExists(socket);
            } catch (java.io.IOException ignored) {
                // A socket file that cannot be removed is replaced at the next launch.
            }
        }
    }
}
