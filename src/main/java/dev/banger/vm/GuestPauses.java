package dev.banger.vm;

import dev.banger.model.Sizes;
import dev.banger.model.Vm;
import dev.banger.model.VmmKind;
import dev.banger.vmm.GuestPause;
import dev.banger.vmm.PauseReports;
import dev.banger.vmm.VmmDriver;
import dev.banger.vmm.VmmException;
import dev.banger.vmm.VmmHandle;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which running guests their VMM has paused, and why: a runtime condition beside the VM's durable state (the
 * record still says {@code running}: the VMM lives and the VM is meant to run), kept in memory only, since a new
 * daemon learns it again from the VMM. One thread keeps the pause reports of every VMM the handles name open
 * (booted or adopted; QEMU's QMP events, Firecracker cannot report) and polls them every period. A guest paused
 * because the host disk filled is resumed once the filesystem holding the VM's directory (its disks) has
 * {@link #RESUME_FREE_BYTES} free again.
 */
final class GuestPauses implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(GuestPauses.class);

    static final Duration DEFAULT_PERIOD = Duration.ofMillis(500);
    /** Free space on the VM directory's filesystem at which a guest paused by a full disk is resumed. */
    static final long RESUME_FREE_BYTES = 64L << 20;
    /** How long after a VMM did not answer its reports are asked for again. */
    static final Duration RETRY_OPEN = Duration.ofSeconds(5);

    /** One VMM's reports and what they last said; {@code reports} null once the VMM can no longer be heard. */
    private static final class Watched {
        final VmmHandle vmm;
        PauseReports reports;
        GuestPause pause;
        String shutdown;

        Watched(VmmHandle vmm, PauseReports reports) {
            this.vmm = vmm;
            this.reports = reports;
        }

        synchronized GuestPause refresh() {
            if (reports != null) {
                try {
                    pause = reports.poll().orElse(null);
                    shutdown = reports.shutdown().orElse(shutdown);
                } catch (VmmException e) {
                    reports.close();
                    reports = null;
                    pause = null;
                    throw e;
                }
            }
            return pause;
        }

        synchronized void close() {
            if (reports != null) {
                reports.close();
                reports = null;
            }
        }
    }

    private final HandleStore handles;
    private final Map<VmmKind, VmmDriver> drivers;
    private final Function<String, Optional<Vm>> vms;
    private final long resumeFreeBytes;
    private final Map<String, Watched> watched = new ConcurrentHashMap<>();
    private final Map<String, Long> retryAt = new ConcurrentHashMap<>();
    private final ScheduledThreadPoolExecutor ticker;

    /** @param vms the VM record by id (to find its directory) */
    GuestPauses(HandleStore handles, Map<VmmKind, VmmDriver> drivers, Function<String, Optional<Vm>> vms,
                long resumeFreeBytes) {
        this.handles = handles;
        this.drivers = drivers;
        this.vms = vms;
        this.resumeFreeBytes = resumeFreeBytes;
        this.ticker = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "guest-pauses");
            t.setDaemon(true);
            return t;
        });
    }

    void start(Duration period) {
        ticker.scheduleWithFixedDelay(this::tickQuietly, 0, period.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * The pause of the VM's guest as last reported (at most a period old); empty while it runs, and as soon as the
     * handles no longer name the VMM that reported it (a stop released it).
     */
    Optional<GuestPause> of(Vm vm) {
        Watched w = watched.get(vm.id());
        GuestPause pause = w == null ? null : w.pause;
        if (pause == null || !handles.get(vm.id()).map(h -> w.vmm.equals(h.vmm())).orElse(false)) {
            return Optional.empty();
        }
        return Optional.of(pause);
    }

    /**
     * Why the VMM {@code seen} said it was shutting down, reading what it reported last: for the VMM watcher,
     * which sees the process gone.
     */
    Optional<String> shutdownOf(String vmId, VmmHandle seen) {
        Watched w = watched.get(vmId);
        if (w == null || !w.vmm.equals(seen)) {
            return Optional.empty();
        }
        try {
            w.refresh();
        } catch (VmmException e) {
            // Gone, as expected; what it said before going was kept.
        }
        return Optional.ofNullable(w.shutdown);
    }

    /**
     * Resumes the guest of {@code vmm} and waits (up to a second) to hear that it runs.
     *
     * @return the pause still reported after that (a full disk pauses it again), or empty
     * @throws VmmException when the VMM cannot resume it
     */
    Optional<GuestPause> resume(Vm vm, VmmHandle vmm) {
        drivers.get(vmm.kind()).resume(vmm);
        Watched w = watched.get(vm.id());
        long deadline = System.nanoTime() + Duration.ofSeconds(1).toNanos();
        while (w != null && w.vmm.equals(vmm)) {
            try {
                if (w.refresh() == null || System.nanoTime() - deadline >= 0) {
                    return Optional.ofNullable(w.pause);
                }
                Thread.sleep(20);
            } catch (VmmException e) {
                return Optional.empty();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Optional.ofNullable(w.pause);
            }
        }
        return Optional.empty();
    }

    /** One line for people: the pause's detail and, for a full disk, the free space and when it resumes. */
    String describe(Vm vm, GuestPause pause) {
        if (pause.cause() != GuestPause.Cause.HOST_DISK_FULL) {
            return pause.detail();
        }
        String free = freeBytes(vm.vmDir()).map(Sizes::formatBytes).orElse("unknown space");
        return pause.detail() + "; " + free + " free on the filesystem of " + vm.vmDir() + ", it resumes by itself "
                + "once " + Sizes.formatBytes(resumeFreeBytes) + " are free";
    }

    private void tickQuietly() {
        try {
            tick();
        } catch (RuntimeException e) {
            log.warn("looking for paused guests failed: {}", e.toString());
        }
    }

    /** One look at every VMM; package-private for tests. */
    void tick() {
        Map<String, VmHandles> snapshot = handles.snapshot();
        watched.entrySet().removeIf(e -> {
            VmHandles h = snapshot.get(e.getKey());
            boolean stale = h == null || !e.getValue().vmm.equals(h.vmm());
            if (stale) {
                e.getValue().close();
            }
            return stale;
        });
        retryAt.keySet().removeIf(id -> !snapshot.containsKey(id));
        for (Map.Entry<String, VmHandles> e : snapshot.entrySet()) {
            VmmHandle vmm = e.getValue().vmm();
            if (vmm != null) {
                look(e.getKey(), vmm);
            }
        }
    }

    private void look(String vmId, VmmHandle vmm) {
        VmmDriver driver = drivers.get(vmm.kind());
        Watched w = watched.get(vmId);
        if (w == null) {
            Long retry = retryAt.get(vmId);
            if (driver == null || retry != null && System.nanoTime() - retry < 0 || !driver.isRunning(vmm)) {
                return;
            }
            try {
                w = new Watched(vmm, driver.pauseReports(vmm).orElse(null));
            } catch (VmmException ex) {
                retryAt.put(vmId, System.nanoTime() + RETRY_OPEN.toNanos());
                log.debug("VM {}: its VMM's pause reports cannot be opened now: {}", vmId, ex.getMessage());
                return;
            }
            retryAt.remove(vmId);
            watched.put(vmId, w);
        }
        GuestPause before = w.pause;
        GuestPause now;
        try {
            now = w.refresh();
        } catch (VmmException ex) {
            if (driver.isRunning(vmm)) {
                watched.remove(vmId); // Heard again at the next look.
                log.info("VM {}: lost its VMM's pause reports ({}); reopening", vmId, ex.getMessage());
            }
            return;
        }
        if (now != null && !now.equals(before)) {
            log.warn("VM {}: its guest is paused: {}: {}", vmId, now.reason(), now.detail());
        } else if (now == null && before != null) {
            log.info("VM {}: its guest runs again", vmId);
        }
        if (now != null && now.cause() == GuestPause.Cause.HOST_DISK_FULL) {
            resumeWhenSpaceIsBack(vmId, w, driver);
        }
    }

    private void resumeWhenSpaceIsBack(String vmId, Watched w, VmmDriver driver) {
        Optional<Vm> vm = vms.apply(vmId);
        if (vm.isEmpty()) {
            return;
        }
        Optional<Long> free = freeBytes(vm.get().vmDir());
        if (free.isEmpty() || free.get() < resumeFreeBytes) {
            return;
        }
        log.info("VM {}: {} free on the filesystem of {} again; resuming its guest", vm.get().name(),
                Sizes.formatBytes(free.get()), vm.get().vmDir());
        try {
            driver.resume(w.vmm);
            w.refresh();
        } catch (VmmException e) {
            log.warn("VM {}: resuming its guest failed: {}", vm.get().name(), e.getMessage());
        }
    }

    private static Optional<Long> freeBytes(Path dir) {
        try {
            return Optional.of(Files.getFileStore(dir).getUsableSpace());
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    @Override
    public void close() {
        ticker.shutdownNow();
        watched.values().forEach(Watched::close);
        watched.clear();
    }
}
