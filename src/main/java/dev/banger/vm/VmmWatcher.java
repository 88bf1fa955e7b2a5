package dev.banger.vm;

import dev.banger.vmm.VmmHandle;
import dev.banger.vmm.VmmProcess;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Notices a VMM that exits without the daemon asking (killed, crashed, or its guest powered itself off): one
 * thread looks at the process of every VM whose handles name one, by pid and start time, and hands each exit to
 * {@code onExit} (the lifecycle, which takes the VM's lock, releases its resources and records why). The
 * handling runs on its own thread so a VM whose lock is held (a stop in progress) never delays the others.
 */
final class VmmWatcher implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(VmmWatcher.class);

    static final Duration DEFAULT_PERIOD = Duration.ofMillis(500);

    private final HandleStore handles;
    private final BiConsumer<String, VmmHandle> onExit;
    private final Set<String> handling = ConcurrentHashMap.newKeySet();
    private final ScheduledExecutorService ticker;
    private final ExecutorService handlers;

    /** @param onExit called with the VM's id and the handle of the VMM seen gone; may block on the VM's lock */
    VmmWatcher(HandleStore handles, BiConsumer<String, VmmHandle> onExit) {
        this.handles = handles;
        this.onExit = onExit;
        ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1, daemonThreads("vmm-watcher"));
        t.setRemoveOnCancelPolicy(true);
        this.ticker = t;
        ThreadPoolExecutor h = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 30, TimeUnit.SECONDS,
                new java.util.concurrent.SynchronousQueue<>(), daemonThreads("vmm-exit"));
        this.handlers = h;
    }

    void start(Duration period) {
        ticker.scheduleWithFixedDelay(this::tick, period.toMillis(), period.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** One look at every VMM; public to tests through the package. */
    void tick() {
        for (Map.Entry<String, VmHandles> e : handles.snapshot().entrySet()) {
            VmmHandle vmm = e.getValue().vmm();
            if (vmm == null || VmmProcess.running(vmm.pid(), vmm.startTicks()) || !handling.add(e.getKey())) {
                continue;
            }
            String vmId = e.getKey();
            handlers.execute(() -> {
                try {
                    onExit.accept(vmId, vmm);
                } catch (RuntimeException ex) {
                    log.warn("handling the exit of the VMM of {} failed: {}", vmId, ex.toString());
                } finally {
                    handling.remove(vmId);
                }
            });
        }
    }

    @Override
    public void close() {
        ticker.shutdownNow();
        handlers.shutdownNow();
    }

    private static java.util.concurrent.ThreadFactory daemonThreads(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }
}
