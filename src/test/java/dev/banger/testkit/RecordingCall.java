package dev.banger.testkit;

import dev.banger.api.Event;
import dev.banger.rpc.Call;
import dev.banger.rpc.Input;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A client of a daemon call in a test: keeps every event the call emits, sends no input, never goes away. An
 * optional hook sees each event as it is emitted (to act at a precise point of the call).
 */
public final class RecordingCall implements Call {

    private final List<Event> events = new ArrayList<>();
    private final Consumer<Event> onEmit;

    public RecordingCall() {
        this(event -> { });
    }

    /** @param onEmit runs on the emitting thread for each event, after it is recorded */
    public RecordingCall(Consumer<Event> onEmit) {
        this.onEmit = onEmit;
    }

    @Override
    public void emit(Event event) {
        synchronized (this) {
            events.add(event);
        }
        onEmit.accept(event);
    }

    public synchronized List<Event> events() {
        return List.copyOf(events);
    }

    /** The details of the progress events, in order. */
    public synchronized List<String> progressDetails() {
        return events.stream().filter(e -> e instanceof Event.Progress).map(e -> ((Event.Progress) e).detail())
                .toList();
    }

    /** What the call wrote to the client's {@code stream} ("stdout", "stderr"), as text. */
    public synchronized String output(String stream) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        events.stream().filter(e -> e instanceof Event.Output o && o.stream().equals(stream))
                .forEach(e -> out.writeBytes(((Event.Output) e).data()));
        return out.toString(StandardCharsets.UTF_8);
    }

    @Override
    public Input nextInput(long timeout, TimeUnit unit) {
        return null;
    }

    @Override
    public boolean cancelled() {
        return false;
    }

    @Override
    public void onCancel(Runnable action) {
    }
}
