package dev.banger.vm;

import dev.banger.api.BangerException;
import dev.banger.api.Event;
import dev.banger.api.VmView;
import dev.banger.rpc.Call;
import dev.banger.rpc.Input;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The creates in flight (and those finished in the last minutes): each has an id, its progress so far, and its
 * outcome. A create goes on when its client disconnects; {@code vm create --attach OP} replays what happened and
 * follows the rest, and {@code vm show} names the step a VM is at.
 */
final class CreateOperations {

    static final Duration KEEP_FINISHED = Duration.ofMinutes(10);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final ConcurrentHashMap<String, Operation> operations = new ConcurrentHashMap<>();
    private final Clock clock;

    CreateOperations(Clock clock) {
        this.clock = clock;
    }

    Operation begin(String vmName) {
        Instant now = clock.instant();
        operations.values().removeIf(op -> op.finishedAt != null
                && op.finishedAt.plus(KEEP_FINISHED).isBefore(now));
        byte[] bytes = new byte[4];
        RANDOM.nextBytes(bytes);
        Operation op = new Operation("op-" + HexFormat.of().formatHex(bytes), vmName);
        operations.put(op.id, op);
        return op;
    }

    Optional<Operation> find(String id) {
        return Optional.ofNullable(operations.get(id));
    }

    /** The unfinished create of {@code vmName}, if any. */
    Optional<Operation> running(String vmName) {
        return operations.values().stream().filter(op -> op.vmName.equals(vmName) && op.finishedAt == null)
                .findFirst();
    }

    /** One create: a recorded event stream, watchers, and an outcome. */
    final class Operation {
        final String id;
        final String vmName;
        private final List<Event> events = new ArrayList<>();
        private final List<Call> watchers = new ArrayList<>();
        private VmView result;
        private BangerException failure;
        private Instant finishedAt;

        private Operation(String id, String vmName) {
            this.id = id;
            this.vmName = vmName;
        }

        /** The last step reported, for vm show. */
        synchronized String step() {
            for (int i = events.size() - 1; i >= 0; i--) {
                if (events.get(i) instanceof Event.Progress p && p.detail() != null) {
                    return p.detail();
                }
            }
            return "starting";
        }

        /**
         * A call whose events are recorded here and passed on to {@code client} (while it listens). The client
         * hears the operation's id just before the first event, so a create refused up front (a bad name, a taken
         * one) answers with its error alone.
         */
        Call recording(Call client) {
            return new Call() {
                private boolean announced;

                @Override
                public void emit(Event event) {
                    if (!announced) {
                        announced = true;
                        client.emit(new Event.Progress("operation", "started", "operation " + id + " (follow it "
                                + "with: banger vm create --attach " + id + ")", 0, -1, -1));
                    }
                    publish(event);
                    client.emit(event);
                }

                @Override
                public Input nextInput(long timeout, TimeUnit unit) throws InterruptedException {
                    return client.nextInput(timeout, unit);
                }

                @Override
                public boolean cancelled() {
                    return false; // A create finishes whoever listens; --attach picks it up again.
                }

                @Override
                public void onCancel(Runnable action) {
                }
            };
        }

        private void publish(Event event) {
            List<Call> targets;
            synchronized (this) {
                events.add(event);
                targets = List.copyOf(watchers);
            }
            targets.forEach(w -> w.emit(event));
        }

        synchronized void succeeded(VmView view) {
            result = view;
            finishedAt = clock.instant();
            notifyAll();
        }

        synchronized void failed(BangerException e) {
            failure = e;
            finishedAt = clock.instant();
            notifyAll();
        }

        /** Replays the events so far to {@code viewer}, follows the rest, and returns the outcome. */
        VmView attach(Call viewer) throws InterruptedException {
            List<Event> replay;
            synchronized (this) {
                replay = List.copyOf(events);
                watchers.add(viewer);
            }
            try {
                replay.forEach(viewer::emit);
                synchronized (this) {
                    while (finishedAt == null && !viewer.cancelled()) {
                        wait(200);
                    }
                    if (failure != null) {
                        throw failure;
                    }
                    if (result == null) {
                        throw BangerException.unavailable("stopped following " + id + "; it goes on");
                    }
                    return result;
                }
            } finally {
                synchronized (this) {
                    watchers.remove(viewer);
                }
            }
        }
    }
}
