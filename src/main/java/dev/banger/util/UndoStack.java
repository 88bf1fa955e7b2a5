package dev.banger.util;

import java.util.ArrayDeque;
import java.util.Deque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Acquire-with-undo (firecracker-go-sdk's cleanup functions): as each resource of a sequence is acquired, push a
 * named cleanup that releases it. When a later step fails, {@link #unwind(Throwable)} runs the cleanups newest
 * first, so a failure at step N undoes steps N-1..1 and nothing leaks. When the whole sequence succeeded,
 * {@link #commit()} forgets them: the resources now belong to whoever the sequence built them for.
 *
 * <pre>{@code
 * UndoStack undo = new UndoStack();
 * try {
 *     LoopDevice loop = loops.attach(image, true);
 *     undo.push("detach " + loop.device(), () -> loops.detach(loop));
 *     dm.createSnapshot(name, ...);
 *     undo.push("remove " + name, () -> dm.remove(name));
 *     undo.commit();
 * } catch (RuntimeException e) {
 *     undo.unwind(e);
 *     throw e;
 * }
 * }</pre>
 *
 * A cleanup that throws is logged and does not stop the others. One sequence, one thread: not thread-safe.
 */
public final class UndoStack {

    private static final Logger log = LoggerFactory.getLogger(UndoStack.class);

    /** A cleanup that failed while unwinding; {@link #getMessage()} names what it was undoing. */
    public static final class CleanupFailedException extends RuntimeException {
        CleanupFailedException(String what, RuntimeException cause) {
            super("undo failed: " + what + ": " + cause.getMessage(), cause);
        }
    }

    private record Cleanup(String what, Runnable action) {
    }

    private final Deque<Cleanup> cleanups = new ArrayDeque<>();

    /**
     * Registers the release of a resource just acquired.
     *
     * @param what what the cleanup does, for the log and the error ("detach /dev/loop3")
     */
    public void push(String what, Runnable cleanup) {
        cleanups.push(new Cleanup(what, cleanup));
    }

    /**
     * Runs every registered cleanup, newest first, and forgets them. A cleanup that throws is logged, added to
     * {@code failure} (the error that made the sequence unwind) as a suppressed {@link CleanupFailedException},
     * and the rest still run.
     */
    public void unwind(Throwable failure) {
        while (!cleanups.isEmpty()) {
            Cleanup cleanup = cleanups.pop();
            try {
                cleanup.action().run();
            } catch (RuntimeException e) {
                CleanupFailedException undoFailed = new CleanupFailedException(cleanup.what(), e);
                log.warn("{}", undoFailed.getMessage());
                failure.addSuppressed(undoFailed);
            }
        }
    }

    /** The sequence succeeded: forgets the cleanups without running them. */
    public void commit() {
        cleanups.clear();
    }

    /** Whether no cleanup is registered. */
    public boolean isEmpty() {
        return cleanups.isEmpty();
    }
}
