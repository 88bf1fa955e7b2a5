package dev.banger.image;

import dev.banger.api.Event;
import dev.banger.rpc.Call;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Turns a pull's listener calls into progress events for the client: a line per step, a bar per layer (its
 * bytes, throttled to about ten updates a second), and one line when a layer is done or found cached.
 */
final class PullProgress implements PullListener {

    private static final long UPDATE_NANOS = 100_000_000L;

    private final Call call;
    private final long start = System.nanoTime();
    private final ConcurrentHashMap<String, Long> lastUpdate = new ConcurrentHashMap<>();

    PullProgress(Call call) {
        this.call = call;
    }

    @Override
    public void step(String description) {
        call.emit(new Event.Progress("pull", "running", description, elapsed(), -1, -1));
    }

    @Override
    public void layer(LayerProgress p) {
        String stage = "layer " + p.index() + "/" + p.count();
        String digest = p.digest().length() > 19 ? p.digest().substring(0, 19) : p.digest();
        switch (p.state()) {
            case FETCHING -> {
                long now = System.nanoTime();
                Long last = lastUpdate.get(stage);
                if (last == null || now - last >= UPDATE_NANOS) {
                    lastUpdate.put(stage, now);
                    call.emit(new Event.Progress(stage, "running", digest, elapsed(), p.bytesDone(), p.bytesTotal()));
                }
            }
            case FETCHED -> call.emit(new Event.Progress(stage, "done", stage + " " + digest + " fetched ("
                    + human(p.bytesTotal()) + ")", elapsed(), p.bytesTotal(), p.bytesTotal()));
            case CACHED -> call.emit(new Event.Progress(stage, "done", stage + " " + digest + " already present",
                    elapsed(), -1, -1));
        }
    }

    void finish() {
        call.emit(Event.Progress.done("pull", "image ready", elapsed()));
    }

    private long elapsed() {
        return (System.nanoTime() - start) / 1_000_000;
    }

    private static String human(long bytes) {
        return bytes < 1 << 20 ? (bytes / 1024) + " KiB" : String.format("%.1f MiB", bytes / 1048576.0);
    }
}
