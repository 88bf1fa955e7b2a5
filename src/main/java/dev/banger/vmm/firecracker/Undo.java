package dev.banger.vmm.firecracker;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Cleanups registered as resources are acquired, run in reverse order on failure (firecracker-go-sdk's shape):
 * a launch that fails at step 5 undoes steps 4..1. A cleanup that throws does not stop the others; its exception
 * is attached to the failure being handled.
 */
final class Undo {

    private final Deque<Runnable> steps = new ArrayDeque<>();

    void push(Runnable cleanup) {
        steps.push(cleanup);
    }

    /** Runs every cleanup, newest first, adding their exceptions to {@code failure} as suppressed. */
    void run(Throwable failure) {
        while (!steps.isEmpty()) {
            try {
                steps.pop().run();
            } catch (RuntimeException e) {
                failure.addSuppressed(e);
            }
        }
    }
}
