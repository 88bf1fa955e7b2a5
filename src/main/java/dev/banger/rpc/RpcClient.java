package dev.banger.rpc;

import dev.banger.api.BangerException;
import dev.banger.api.ErrorCode;
import dev.banger.api.Event;
import dev.banger.api.Method;
import dev.banger.json.Json;
import dev.banger.json.JsonException;
import java.io.Closeable;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * The CLI's side of the protocol. Each {@link #call} opens its own connection to the daemon's socket.
 */
public final class RpcClient {

    private final Path socket;

    public RpcClient(Path socket) {
        this.socket = socket;
    }

    public Path socket() {
        return socket;
    }

    /** Calls a method whose events the caller does not need. */
    public <Q, R> R call(Method<Q, R> method, Q request) {
        return call(method, request, event -> { });
    }

    /**
     * Calls {@code method} and returns its result, passing each event to {@code events} as it arrives.
     *
     * @throws DaemonNotRunningException when nothing listens on the socket (the request was not sent)
     * @throws BangerException the daemon's error, or {@link ErrorCode#UNAVAILABLE} when the connection broke
     */
    public <Q, R> R call(Method<Q, R> method, Q request, Consumer<Event> events) {
        try (OpenCall<R> call = open(method, request)) {
            return call.awaitResult(events);
        }
    }

    /**
     * Starts a call that keeps its connection open for {@link Input}s (exec). The caller closes it; closing
     * before the result cancels the call in the daemon.
     */
    public <Q, R> OpenCall<R> open(Method<Q, R> method, Q request) {
        SocketChannel channel;
        try {
            channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        } catch (IOException e) {
            throw new BangerException(ErrorCode.UNAVAILABLE, "cannot create a Unix socket: " + e.getMessage());
        }
        try {
            channel.connect(UnixDomainSocketAddress.of(socket));
        } catch (IOException e) {
            closeQuietly(channel);
            throw new DaemonNotRunningException("bangerd is not running (cannot connect to " + socket + ": "
                    + e.getMessage() + ")");
        }
        FrameChannel frames = new FrameChannel(channel);
        try {
            frames.write(Json.writeBytes(new Envelope.Request(method.name(), Json.toTree(request))));
        } catch (IOException e) {
            closeQuietly(frames);
            throw new BangerException(ErrorCode.UNAVAILABLE, "bangerd closed the connection: " + e.getMessage());
        }
        return new OpenCall<>(method, frames);
    }

    /** A call in progress. */
    public final class OpenCall<R> implements Closeable {
        private final Method<?, R> method;
        private final FrameChannel frames;
        private boolean answered;
        private R result;

        private OpenCall(Method<?, R> method, FrameChannel frames) {
            this.method = method;
            this.frames = frames;
        }

        /** Sends input to the call; safe while another thread is in {@link #awaitResult}. */
        public void send(Input input) {
            try {
                frames.write(Json.writeBytes(input));
            } catch (IOException e) {
                throw lost(e);
            }
        }

        /**
         * Sends {@code len} bytes of {@code data} as input (what {@link Input#data} carries) in data frames, raw;
         * {@code data} may be reused once this returns. Safe while another thread is in {@link #awaitResult}.
         */
        public void sendData(byte[] data, int off, int len) {
            try {
                for (int done = 0; done < len; done += FrameChannel.MAX_FRAME) {
                    frames.writeData(data, off + done, Math.min(FrameChannel.MAX_FRAME, len - done));
                }
            } catch (IOException e) {
                throw lost(e);
            }
        }

        private BangerException lost(IOException e) {
            return new BangerException(ErrorCode.UNAVAILABLE, "lost the connection to bangerd: " + e.getMessage());
        }

        /**
         * Waits for the call's next event: a call that takes input says it is ready with one, and fails first
         * (no such VM) without one.
         *
         * @return the event, or null when the call ended with its result instead ({@link #awaitResult} returns it)
         * @throws BangerException the daemon's error, or {@link ErrorCode#UNAVAILABLE} when the connection broke
         */
        public Event nextEvent() {
            Event[] event = new Event[1];
            if (!answered) {
                result = readUntil(e -> event[0] = e, true);
                answered = event[0] == null;
            }
            return event[0];
        }

        /** Reads events until the result arrives. Data frames from the daemon come as stdout output. */
        public R awaitResult(Consumer<Event> events) {
            return awaitResult(events, null);
        }

        /**
         * As {@link #awaitResult(Consumer)}, data frames read into {@code data}'s buffers and handed to it instead
         * of coming as stdout output (bulk output, {@code vm cp} out of a VM, without a new array per frame).
         */
        public R awaitResult(Consumer<Event> events, DataReceiver data) {
            if (answered) {
                return result;
            }
            answered = true;
            return readUntil(events, false, data);
        }

        /** Reads frames until the result (returned) or, with {@code oneEvent}, the first event (returns null). */
        private R readUntil(Consumer<Event> events, boolean oneEvent) {
            return readUntil(events, oneEvent, null);
        }

        private R readUntil(Consumer<Event> events, boolean oneEvent, DataReceiver data) {
            while (true) {
                FrameChannel.Frame frame;
                try {
                    frame = data == null ? frames.read() : frames.read(data::buffer);
                } catch (IOException e) {
                    throw new BangerException(ErrorCode.UNAVAILABLE, "lost the connection to bangerd during "
                            + method.name() + ": " + e.getMessage());
                }
                if (frame == null) {
                    throw new BangerException(ErrorCode.UNAVAILABLE, "bangerd closed the connection during "
                            + method.name() + " without an answer (see its log)");
                }
                if (frame.data()) {
                    if (data != null) {
                        data.accept(frame.bytes(), frame.length());
                    } else {
                        events.accept(new Event.Output("stdout", frame.bytes()));
                    }
                    if (oneEvent) {
                        return null;
                    }
                    continue;
                }
                Envelope.Response response;
                try {
                    response = Json.read(frame.bytes(), Envelope.Response.class);
                } catch (JsonException e) {
                    throw new BangerException(ErrorCode.INTERNAL, "unreadable answer from bangerd: "
                            + e.getMessage());
                }
                if (response.event() != null) {
                    events.accept(response.event());
                    if (oneEvent) {
                        return null;
                    }
                } else if (response.error() != null) {
                    throw new BangerException(ErrorCode.fromWire(response.error().code()),
                            response.error().message());
                } else {
                    try {
                        return Json.fromTree(response.result(), method.resultType());
                    } catch (JsonException e) {
                        throw new BangerException(ErrorCode.INTERNAL, "unreadable result from bangerd for "
                                + method.name() + ": " + e.getMessage());
                    }
                }
            }
        }

        @Override
        public void close() {
            closeQuietly(frames);
        }
    }

    /** Takes a call's output data frames into buffers of its own, which it may reuse once it has the bytes. */
    public interface DataReceiver {
        /** A buffer of at least {@code length} bytes for the next data frame. */
        byte[] buffer(int length);

        /** The next data frame: {@code length} bytes at the start of {@code buffer}, one {@link #buffer} gave. */
        void accept(byte[] buffer, int length);
    }

    private static void closeQuietly(Closeable c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // Nothing to do about a failing close.
        }
    }
}
