package dev.banger.host.disk;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Acquire-with-undo (firecracker-go-sdk's cleanup functions): each acquired resource registers its release;
 * {@link #unwind} runs them newest first, so a failure at step N undoes N-1..1.
 */
final class UndoStack {

    private record Step(String what, Runnable undo) {
    }

    private final Deque<Step> steps = new ArrayDeque<>();

    void push(String what, Runnable undo) {
        steps.push(new Step(what, undo));
    }

    /**
     * Runs every registered undo, newest first. Each failure is attached to {@code cause} as suppressed and the
     * rest still run.
     */
    void unwind(Throwable cause) {
        while (!steps.isEmpty()) {
            Step step = steps.pop();
            try {
                step.undo().run();
            } catch (RuntimeException e) {
                cause.addSuppressed(new RootDiskException("undo failed: " + step.what() + ": " + e.getMessage(), e));
            }
        }
    }
}
