package dev.banger.rpc;

import dev.banger.api.Event;
import dev.banger.json.Json;
import dev.banger.json.JsonException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
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
     * Input bytes queued for a handler before the connection is no longer read: a client streaming data (vm cp)
     * faster than the handler passes it on is held back by its socket instead of filling the daemon's memory. A
     * single frame larger than this is still taken, alone.
     */
    static final int INPUT_BUDGET = 1024 * 1024;
    private static final Input END_OF_INPUT = new Input(null, null, null, null);

    private final FrameChannel frames;
    private final Peer peer;
    private final LinkedBlockingQueue<Input> inputs = new LinkedBlockingQueue<>();
    private final Semaphore room = new Semaphore(INPUT_BUDGET);
    private final AtomicBoolean cancelled = new AtomicBoolean();
    private final AtomicBoolean finished = new AtomicBoolean();
    private final List<Runnable> cancelActions = new ArrayList<>();
    private volatile boolean clientGone;

    ServerCall(FrameChannel frames, Peer peer) {
        this.frames = frames;
        this.peer = peer;
    }

    @Override
    public Peer peer() {
        return peer;
    }

    void readInputs() {
        try {
            while (!finished.get()) {
                FrameChannel.Frame frame = frames.read();
                if (frame == null) {
                    break;
                }
                Input input = frame.data() ? Input.data(frame.bytes()) : Json.read(frame.bytes(), Input.class);
                String problem = problem(input);
                if (problem != null) {
                    log.debug("input frame ignored: {}", problem);
                    continue;
                }
                if (!enqueue(input)) {
                    break;
                }
            }
        } catch (IOException | RuntimeException e) { // JsonException among them
            log.debug("input stream ended: {}", e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        clientGone = true;
        inputs.add(END_OF_INPUT);
        if (!finished.get()) {
            cancel();
        }
    }

    /** Why a client's input frame cannot be handed to a handler, or null when it is well formed. */
    static String problem(Input input) {
        if (input == null) {
            return "not an object";
        }
        int set = (input.stdin() != null ? 1 : 0) + (input.stdinEof() != null ? 1 : 0)
                + (input.signal() != null ? 1 : 0) + (input.resize() != null ? 1 : 0);
        if (set != 1) {
            return set + " fields set, not exactly one";
        }
        if (input.signal() != null && (input.signal() < 1 || input.signal() > 64)) {
            return "signal " + input.signal() + " is not 1..64";
        }
        if (input.resize() != null && (input.resize().length != 2 || input.resize()[0] < 1
                || input.resize()[1] < 1 || input.resize()[0] > 65535 || input.resize()[1] > 65535)) {
            return "resize is not [rows, cols] in 1..65535";
        }
        return null;
    }

    /** What an input holds of the budget: its bytes (at most the whole budget), at least 1. */
    private static int cost(Input input) {
        return input.stdin() == null ? 1 : Math.max(1, Math.min(INPUT_BUDGET, input.stdin().length));
    }

    /** Waits for room in the budget; false when the call finished meanwhile (nobody will take it). */
    private boolean enqueue(Input input) throws InterruptedException {
        while (!room.tryAcquire(cost(input), 100, TimeUnit.MILLISECONDS)) {
            if (finished.get()) {
                return false;
            }
        }
        inputs.add(input);
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
    public void emitData(byte[] data, int off, int len) {
        if (clientGone || len == 0) {
            return;
        }
        try {
            for (int done = 0; done < len; done += FrameChannel.MAX_FRAME) {
                frames.writeData(data, off + done, Math.min(FrameChannel.MAX_FRAME, len - done));
            }
        } catch (IOException e) {
            clientGone = true;
        }
    }

    @Override
    public Input nextInput(long timeout, TimeUnit unit) throws InterruptedException {
        Input input = inputs.poll(timeout, unit);
        if (input == END_OF_INPUT) {
            inputs.add(END_OF_INPUT); // for the next caller: the reader has stopped adding
            return null;
        }
        if (input != null) {
            room.release(cost(input));
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
