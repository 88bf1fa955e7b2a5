package dev.banger.vm;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One lock per VM name. Lifecycle operations on a VM hold its lock; operations on different VMs never wait
 * for each other. Lock order: a VM lock is taken before any store access and never while holding another VM's
 * lock (see ARCHITECTURE.md).
 */
final class VmLocks {

    private final ConcurrentHashMap<String, ReentrantLock> locks = new ConcurrentHashMap<>();

    /** Acquires the lock of {@code name}; close the returned guard to release it. */
    Guard lock(String name) {
        ReentrantLock lock = locks.computeIfAbsent(name, n -> new ReentrantLock());
        lock.lock();
        return lock::unlock;
    }

    interface Guard extends AutoCloseable {
        @Override
        void close();
    }
}
