package dev.banger.guest;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Objects;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One agent channel's streams and outcome: stdin with the agent's credit window, stdout and stderr queued as they
 * arrive with credit returned as they are consumed, and the final RESULT (read by the channel's {@link AgentOp}) or
 * ERROR. The public handles ({@link ExecProcess}, {@link SessionAttachment}, {@link FileCopyOut},
 * {@link FileCopyIn}) give it their shape.
 *
 * <p>Output is flow-controlled: the agent sends at most 256 KiB that this side has not consumed, so read
 * {@link #stdout()} and {@link #stderr()} concurrently (or close the one you do not want, which discards it).
 * Writes to {@link #stdin()} block while the agent's window for stdin is used up. Closing {@link #stdin()} sends
 * EOF; closing an output stream discards the rest of it. When the connection is lost, blocked and later calls
 * throw {@link AgentException}.
 */
final class AgentChannel<R> {

    /** Credit goes back once this much is consumed, or as soon as the reader has taken everything. */
    private static final int CREDIT_BATCH = 32 * 1024;

    private final AgentClient client;
    private final int channel;
    private final AgentOp<R> op;
    private final String description;
    /**
     * A channel with a window above the initial one (a file copy) returns credit in quarters of it and only then:
     * each WINDOW frame wakes the agent, which under TCG costs about as much as the 64 KiB it lets through.
     */
    private final boolean bulk;
    private final int creditBatch;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final OutputQueue stdoutQueue = new OutputQueue("stdout");
    private final OutputQueue stderrQueue = new OutputQueue("stderr");
    private final InputStream stdout = new ChannelInputStream(stdoutQueue);
    private final InputStream stderr = new ChannelInputStream(stderrQueue);
    private final OutputStream stdin;
    private int buffered;
    private int maxBuffered;
    private int creditToReturn;
    private long stdinCredit = FrameType.INITIAL_WINDOW;
    private boolean stdinClosed;
    private boolean cancelled;
    private boolean finished;
    private boolean connectionLost;
    private R result;
    private AgentException failure;
    /** The agent has sent a frame on this channel; {@link #transport} holds the first one's payload if it was TRANSPORT. */
    private boolean firstFrameSeen;
    private byte[] transport;
    /** Run once if the channel fails (ERROR or the connection lost); see {@link #onFailure}. */
    private Runnable failureHook;

    /** @param op what the channel was opened for: names it in messages, says whether it has stdin, reads its RESULT */
    AgentChannel(AgentClient client, int channel, AgentOp.Channel<R, ?> op) {
        this.client = client;
        this.channel = channel;
        this.op = op;
        this.description = op.describe();
        this.bulk = op.outputWindow() > FrameType.INITIAL_WINDOW;
        this.creditBatch = bulk ? op.outputWindow() / 4 : CREDIT_BATCH;
        this.stdin = op.stdin() ? new ChannelOutputStream() : new DisconnectedStdin();
    }

    OutputStream stdin() {
        return stdin;
    }

    /** What runs on the channel, for messages. */
    String description() {
        return description;
    }

    InputStream stdout() {
        return stdout;
    }

    InputStream stderr() {
        return stderr;
    }

    /** Sends SIGNAL with {@code signal} (a Linux signal number); ignored once the channel ended. */
    void signal(int signal) throws IOException {
        if (signal < 1 || signal > 64) {
            throw new IllegalArgumentException("not a signal number: " + signal);
        }
        if (!isFinished()) {
            client.send(FrameType.SIGNAL, channel, new byte[] {(byte) signal});
        }
    }

    /** Sends RESIZE; ignored once the channel ended. */
    void resize(int rows, int cols) throws IOException {
        if (rows < 0 || rows > 0xFFFF || cols < 0 || cols > 0xFFFF) {
            throw new IllegalArgumentException("terminal size out of range: " + rows + "x" + cols);
        }
        if (!isFinished()) {
            byte[] size = {(byte) (rows >> 8), (byte) rows, (byte) (cols >> 8), (byte) cols};
            client.send(FrameType.RESIZE, channel, size);
        }
    }

    /** Sends CLOSE; output not yet read is discarded, the final RESULT still arrives. Idempotent. */
    void cancel() throws IOException {
        lock.lock();
        try {
            if (finished || cancelled) {
                return;
            }
            cancelled = true;
            stdinClosed = true;
            stdoutQueue.clear();
            stderrQueue.clear();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        client.send(FrameType.CLOSE, channel, new byte[0]);
    }

    /**
     * Waits for the channel's RESULT.
     *
     * @throws AgentException with the agent's code when it answered ERROR, or when the connection was lost
     */
    R waitFor() throws IOException, InterruptedException {
        lock.lock();
        try {
            while (!finished) {
                changed.await();
            }
            return outcome();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Like {@link #waitFor()}, for at most {@code timeout}.
     *
     * @throws TimeoutException when the channel is still open then (it is left open)
     */
    R waitFor(Duration timeout) throws IOException, InterruptedException, TimeoutException {
        long nanos = timeout.toNanos();
        lock.lock();
        try {
            while (!finished) {
                if (nanos <= 0) {
                    throw new TimeoutException(description + " still running after " + AgentClient.humanDuration(timeout));
                }
                nanos = changed.awaitNanos(nanos);
            }
            return outcome();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits for the channel's first frame and returns its payload if it is TRANSPORT (a file copy asked to go over
     * TCP: where the guest listens), or null when it is anything else (an agent that does not know the request
     * ignores it and starts the copy on the channel), the channel ended, or nothing came within {@code timeout}.
     */
    byte[] awaitTransport(Duration timeout) throws InterruptedException {
        long nanos = timeout.toNanos();
        lock.lock();
        try {
            while (!firstFrameSeen && !finished && nanos > 0) {
                nanos = changed.awaitNanos(nanos);
            }
            return transport;
        } finally {
            lock.unlock();
        }
    }

    boolean isFinished() {
        lock.lock();
        try {
            return finished;
        } finally {
            lock.unlock();
        }
    }

    /** The most output bytes ever held here unread (bounded by the flow-control window). */
    int maxBufferedBytes() {
        lock.lock();
        try {
            return maxBuffered;
        } finally {
            lock.unlock();
        }
    }

    private R outcome() throws AgentException {
        if (failure != null) {
            throw failure.rethrown();
        }
        return result;
    }

    AgentClient.ChannelHandler handler() {
        return new AgentClient.ChannelHandler() {
            @Override
            public void onFrame(Frame frame) {
                receive(frame);
            }

            @Override
            public void onConnectionLost(AgentException cause) {
                Runnable hook = null;
                lock.lock();
                try {
                    if (!finished) {
                        failure = cause;
                        connectionLost = true;
                        finished = true;
                        hook = takeFailureHook();
                        changed.signalAll();
                    }
                } finally {
                    lock.unlock();
                }
                runHook(hook);
            }
        };
    }

    private void receive(Frame frame) {
        lock.lock();
        try {
            if (!firstFrameSeen) {
                firstFrameSeen = true;
                transport = frame.type() == FrameType.TRANSPORT ? frame.payload() : null;
                changed.signalAll();
            }
        } finally {
            lock.unlock();
        }
        switch (frame.type()) {
            case FrameType.STDOUT, FrameType.STDERR -> {
                boolean returnNow = false;
                lock.lock();
                try {
                    OutputQueue q = frame.type() == FrameType.STDOUT ? stdoutQueue : stderrQueue;
                    if (q.discarding || cancelled) {
                        creditToReturn += frame.payload().length;
                        returnNow = true;
                    } else if (frame.payload().length > 0) {
                        q.add(frame.payload());
                        buffered += frame.payload().length;
                        maxBuffered = Math.max(maxBuffered, buffered);
                        changed.signalAll();
                    }
                } finally {
                    lock.unlock();
                }
                if (returnNow) {
                    returnCredit(true);
                }
            }
            case FrameType.EOF -> {
                if (frame.payload().length != 1) {
                    return;
                }
                lock.lock();
                try {
                    if (frame.payload()[0] == FrameType.STREAM_STDOUT) {
                        stdoutQueue.eof = true;
                    } else if (frame.payload()[0] == FrameType.STREAM_STDERR) {
                        stderrQueue.eof = true;
                    }
                    changed.signalAll();
                } finally {
                    lock.unlock();
                }
            }
            case FrameType.WINDOW -> {
                if (frame.payload().length != 4) {
                    return;
                }
                lock.lock();
                try {
                    stdinCredit += Integer.toUnsignedLong(frame.u32());
                    changed.signalAll();
                } finally {
                    lock.unlock();
                }
            }
            case FrameType.RESULT -> {
                R read = null;
                AgentException error = null;
                try {
                    read = AgentCodec.result(op, frame, context());
                } catch (AgentException e) {
                    error = e;
                }
                finish(read, error);
            }
            case FrameType.ERROR -> finish(null, AgentCodec.error(frame, context()));
            case FrameType.TRANSPORT -> {
                // Read by awaitTransport, when it is the channel's first frame.
            }
            default -> {
                // Frame types a later agent may add: not ours to interpret.
            }
        }
    }

    private String context() {
        return description + " on " + client.peer();
    }

    private void finish(R outcome, AgentException error) {
        client.release(channel);
        Runnable hook = null;
        lock.lock();
        try {
            if (finished) {
                return;
            }
            result = outcome;
            failure = error;
            finished = true;
            if (error != null) {
                hook = takeFailureHook();
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        runHook(hook);
    }

    /**
     * Runs {@code hook} once when the channel fails: an ERROR, or the connection to the agent lost (at once if it
     * already has). A file copy over TCP closes its connection with it, so a relay blocked on a guest that is gone
     * returns. Not on RESULT: a copy's archive may still be in flight on its connection then.
     */
    void onFailure(Runnable hook) {
        boolean now;
        lock.lock();
        try {
            now = finished && failure != null;
            if (!now) {
                failureHook = hook;
            }
        } finally {
            lock.unlock();
        }
        if (now) {
            runHook(hook);
        }
    }

    private Runnable takeFailureHook() {
        Runnable hook = failureHook;
        failureHook = null;
        return hook;
    }

    private static void runHook(Runnable hook) {
        if (hook != null) {
            hook.run();
        }
    }

    /** Returns consumed output to the agent as credit, in batches, from the client's control thread. */
    private void returnCredit(boolean force) {
        int amount;
        lock.lock();
        try {
            boolean due = creditToReturn >= creditBatch || (buffered == 0 && !bulk);
            if (creditToReturn == 0 || finished || (!force && !due)) {
                return;
            }
            amount = creditToReturn;
            creditToReturn = 0;
        } finally {
            lock.unlock();
        }
        client.sendAsync(FrameType.WINDOW, channel, AgentClient.u32(amount));
    }

    /** Output of one stream received and not yet read. Guarded by the process's lock. */
    private final class OutputQueue {
        final String name;
        final ArrayDeque<byte[]> chunks = new ArrayDeque<>();
        int headOffset;
        int size;
        boolean eof;
        boolean discarding;

        OutputQueue(String name) {
            this.name = name;
        }

        void add(byte[] chunk) {
            chunks.addLast(chunk);
            size += chunk.length;
        }

        int take(byte[] b, int off, int len) {
            int n = 0;
            while (n < len && !chunks.isEmpty()) {
                byte[] head = chunks.peekFirst();
                int k = Math.min(len - n, head.length - headOffset);
                System.arraycopy(head, headOffset, b, off + n, k);
                n += k;
                headOffset += k;
                if (headOffset == head.length) {
                    chunks.removeFirst();
                    headOffset = 0;
                }
            }
            size -= n;
            buffered -= n;
            creditToReturn += n;
            return n;
        }

        /** Drops what is buffered, crediting it back. */
        void clear() {
            buffered -= size;
            creditToReturn += size;
            chunks.clear();
            headOffset = 0;
            size = 0;
        }
    }

    private final class ChannelInputStream extends InputStream {
        private final OutputQueue queue;
        private boolean closed;

        ChannelInputStream(OutputQueue queue) {
            this.queue = queue;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xFF;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            Objects.checkFromIndexSize(off, len, b.length);
            if (len == 0) {
                return 0;
            }
            int n;
            lock.lock();
            try {
                while (true) {
                    if (closed) {
                        throw new IOException(queue.name + " of " + description + " is closed");
                    }
                    if (cancelled) {
                        return -1;
                    }
                    if (queue.size > 0) {
                        n = queue.take(b, off, len);
                        break;
                    }
                    if (queue.eof || (finished && !connectionLost)) {
                        return -1;
                    }
                    if (connectionLost) {
                        throw new AgentException(failure.getMessage(), failure);
                    }
                    try {
                        changed.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new InterruptedIOException("interrupted reading " + queue.name + " of " + description);
                    }
                }
            } finally {
                lock.unlock();
            }
            returnCredit(false);
            return n;
        }

        @Override
        public int available() {
            lock.lock();
            try {
                return queue.size;
            } finally {
                lock.unlock();
            }
        }

        @Override
        public void close() {
            lock.lock();
            try {
                if (closed) {
                    return;
                }
                closed = true;
                queue.discarding = true;
                queue.clear();
                changed.signalAll();
            } finally {
                lock.unlock();
            }
            returnCredit(true);
        }
    }

    private final class ChannelOutputStream extends OutputStream {

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            Objects.checkFromIndexSize(off, len, b.length);
            while (len > 0) {
                int n;
                lock.lock();
                try {
                    while (true) {
                        if (stdinClosed && !cancelled) {
                            throw new IOException("stdin of " + description + " is closed");
                        }
                        if (connectionLost) {
                            throw new AgentException(failure.getMessage(), failure);
                        }
                        if (finished || cancelled) {
                            throw new IOException(description + " has ended; its stdin is closed");
                        }
                        if (stdinCredit > 0) {
                            break;
                        }
                        try {
                            changed.await();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            throw new InterruptedIOException("interrupted writing stdin of " + description);
                        }
                    }
                    n = (int) Math.min(Math.min(len, stdinCredit), FrameType.MAX_DATA_PAYLOAD);
                    stdinCredit -= n;
                } finally {
                    lock.unlock();
                }
                client.send(FrameType.STDIN, channel, b, off, n);
                off += n;
                len -= n;
            }
        }

        @Override
        public void close() throws IOException {
            boolean sendEof;
            lock.lock();
            try {
                if (stdinClosed) {
                    return;
                }
                stdinClosed = true;
                sendEof = !finished && !cancelled;
                changed.signalAll();
            } finally {
                lock.unlock();
            }
            if (sendEof) {
                client.send(FrameType.EOF, channel, new byte[] {FrameType.STREAM_STDIN});
            }
        }
    }

    /** stdin of a channel without one (a program started with {@link ExecSpec#withoutStdin()}, logs). */
    private final class DisconnectedStdin extends OutputStream {
        @Override
        public void write(int b) throws IOException {
            throw new IOException("stdin of " + description + " is /dev/null (started without stdin)");
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            write(0);
        }
    }
}
