package dev.banger.rpc;

import dev.banger.api.Event;
import dev.banger.json.Json;
import dev.banger.json.JsonException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One call in flight on an {@link RpcServer} connection: events out, input in, cancellation when the client goes
 * away. {@link #readInputs} runs on its own thread for the life of the call; the handler's thread calls the
 * {@link Call} methods and {@link #finish} when the handler returns.
 */
final class ServerCall implements Call {

    private static final Logger log = LoggerFactory.getLogger(ServerCall.class);
    /**
     * Inputs queued for a handler before the connection is no longer read: a client streaming data (vm cp) faster
     * than the handler passes it on is held back by its socket instead of filling the daemon's memory.
     */
    static final int INPUT_QUEUE = 64;
    private static final Input END_OF_INPUT = new Input(null, null, null, null);

    private final FrameChannel frames;
    private final LinkedBlockingQueue<Input> inputs = new LinkedBlockingQueue<>(INPUT_QUEUE);
    private final AtomicBoolean cancelled = new AtomicBoolean();
    private final AtomicBoolean finished = new AtomicBoolean();
    private final List<Runnable> cancelActions = new ArrayList<>();
    private volatile boolean clientGone;

    ServerCall(FrameChannel frames) {
        this.frames = frames;
    }

    void readInputs() {
        try {
            while (!finished.get()) {
                byte[] frame = frames.read();
                if (frame == null || !enqueue(Json.read(frame, Input.class))) {
                    break;
                }
            }
        } catch (IOException | JsonException e) {
            log.debug("input stream ended: {}", e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        clientGone = true;
        try {
            enqueue(END_OF_INPUT);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (!finished.get()) {
            cancel();
        }
    }

    /** Waits for room in the queue; false when the call finished meanwhile (nobody will take it). */
    private boolean enqueue(Input input) throws InterruptedException {
        while (!inputs.offer(input, 100, TimeUnit.MILLISECONDS)) {
            if (finished.get()) {
                return false;
            }
        }
        return true;
    }

    private void cancel() {
        List<Runnable> actions;
        synchronized (cancelActions) {
            if (!cancelled.compareAndSet(false, true)) {
                return;
            }
            actions = List.copyOf(cancelActions);
        }
        actions.forEach(ServerCall::runQuietly);
    }

    void finish() {
        finished.set(true);
    }

    @Override
    public void emit(Event event) {
        if (clientGone) {
            return;
        }
        try {
            frames.write(Json.writeBytes(new Envelope.Response(event, null, null)));
        } catch (IOException e) {
            clientGone = true;
        }
    }

    @Override
    public Input nextInput(long timeout, TimeUnit unit) throws InterruptedException {
        Input input = inputs.poll(timeout, unit);
        if (input == END_OF_INPUT) {
            inputs.offer(END_OF_INPUT); // room: the reader has stopped adding
            return null;
        }
        return input;
    }

    @Override
    public boolean cancelled() {
        return cancelled.get();
    }

    @Override
    public void onCancel(Runnable action) {
        synchronized (cancelActions) {
            if (!cancelled.get()) {
                cancelActions.add(action);
                return;
            }
        }
        runQuietly(action);
    }

    private static void runQuietly(Runnable action) {
        try {
            action.run();
        } catch (RuntimeException e) {
            log.warn("cancel action failed: {}", e.toString());
        }
    }
}
