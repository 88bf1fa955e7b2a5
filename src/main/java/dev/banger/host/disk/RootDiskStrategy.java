package dev.banger.host.disk;

import dev.banger.model.VmmKind;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * One way of giving a VM a private, writable root disk over a read-only image. Implementations are stateless
 * apart from their {@link dev.banger.host.CommandRunner}; all state is in the VM dir and the handles.
 *
 * <p>Lifecycle, per VM: {@link #provision} when the VM is created and again before every boot (it is re-entrant:
 * the durable file in the VM dir is reused, only transient resources are made again); {@link #teardown} after the
 * VMM has exited, and for whatever handles a crashed daemon left behind. Deleting the VM dir deletes the disk.
 */
public interface RootDiskStrategy {

    /** Stable name, stored in {@link RootDiskHandles#strategy()} and shown in messages. */
    String name();

    /** Higher is tried first. */
    int priority();

    /** Whether this strategy can run on {@code host} for a VM run by {@code vmm}, and why (not). */
    Applicability isApplicable(HostCapabilities host, VmmKind vmm);

    /**
     * The durable file this strategy keeps in a VM dir (the overlay, the COW file, the copy). It is deterministic,
     * so a VM record can hold it before provisioning, and each strategy's name differs, so
     * {@link RootDiskChooser#forDiskFile} finds the strategy of an existing VM from it.
     */
    Path diskFile(Path vmDir);

    /**
     * Whether the VMM opens {@link #diskFile} itself, so that a copy of the file, made while no VMM has it open, is
     * a whole disk with nothing to build on the host: what a template's root disk must be (docs/snapshots.md).
     * True for the qcow2 overlay and the copy; false for device-mapper, whose VMM opens a device built over its
     * COW file.
     */
    default boolean opensDiskFile() {
        return false;
    }

    /**
     * Makes the root disk ready to attach. Creates {@link #diskFile} when it is absent (atomically: it appears
     * complete or not at all) and reuses it when present; then acquires any transient resources.
     *
     * <p>Acquire-with-undo: a failure at any step releases what earlier steps acquired (and removes the disk
     * file when this call created it) before the exception propagates, so a failed call leaves nothing behind.
     *
     * @param acquired called <em>before</em> each transient resource is taken, with everything held so far and
     *     the resource about to be taken, so the caller persists it first: a daemon killed at any point then
     *     leaves handles naming everything attached (and perhaps one resource never taken, which
     *     {@link #teardown} skips). If it throws, that resource is not taken, provisioning is undone and the
     *     exception propagates.
     * @throws RootDiskException when a step fails; the message names the step, its input and what to do
     */
    RootDisk provision(RootDiskRequest request, Consumer<RootDiskHandles> acquired);

    /** {@link #provision(RootDiskRequest, Consumer)} without progress. */
    default RootDisk provision(RootDiskRequest request) {
        return provision(request, handles -> { });
    }

    /**
     * Releases the transient resources {@code handles} name, in reverse order of acquisition. Idempotent: a
     * resource already gone is skipped, so it is safe to run twice, on half-built state, and on handles read back
     * after a crash or a reboot. Every resource is attempted even when an earlier one fails. Never touches the
     * durable disk file.
     *
     * @throws RootDiskException after attempting everything, when some resource could not be released
     */
    void teardown(RootDiskHandles handles);
}
