package dev.banger.vmm;

import java.util.Optional;

/**
 * What one VMM reports about its guest pausing and resuming, for as long as it is open (QEMU: its QMP events).
 * Opened by {@link VmmDriver#pauseReports}; used from one thread at a time.
 */
public interface PauseReports extends AutoCloseable {

    /**
     * Takes what the VMM reported since the last call, without waiting, and returns the guest's pause as it now
     * stands: empty while the guest runs.
     *
     * @throws VmmException when the VMM can no longer be heard (it exited, or closed the connection): close this
     *     and open another if the VMM still runs
     */
    Optional<GuestPause> poll();

    /**
     * Why the VMM said it is shutting down ({@code guest-shutdown}, {@code guest-reset}, {@code host-signal},
     * ...), once it has; read the last reports first with {@link #poll}.
     */
    Optional<String> shutdown();

    @Override
    void close();
}
