package dev.banger.guest;

import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.concurrent.TimeoutException;

/**
 * What {@link ExecProcess} and {@link SessionAttachment} share: a guest process on one agent channel that takes
 * input, signals and a terminal size, and whose channel ends with {@code R}. The subclasses add their own streams
 * and their way of leaving (cancel the program, detach from the session).
 *
 * @param <R> how the channel ended: an exit status, a session outcome
 */
abstract class InteractiveChannel<R> implements Interactive {

    final AgentChannel<R> channel;

    InteractiveChannel(AgentChannel<R> channel) {
        this.channel = channel;
    }

    /**
     * The process's stdin (or terminal input); closing it sends end of input. Writes fail when the channel was
     * opened without input. Never null.
     */
    @Override
    public OutputStream stdin() {
        return channel.stdin();
    }

    /** Sends {@code signal} (a Linux signal number) to the process group; ignored once the channel ended. */
    @Override
    public void signal(int signal) throws IOException {
        channel.signal(signal);
    }

    /** Sets the PTY's size (the process gets SIGWINCH); ignored without a PTY or once the channel ended. */
    @Override
    public void resize(int rows, int cols) throws IOException {
        channel.resize(rows, cols);
    }

    /**
     * Waits for the channel to end and its output to arrive.
     *
     * @throws AgentException the agent's error for the channel (see the subclass), or a lost connection
     */
    public R waitFor() throws IOException, InterruptedException {
        return channel.waitFor();
    }

    /**
     * Like {@link #waitFor()}, for at most {@code timeout}.
     *
     * @throws TimeoutException when the channel is still open then (it is left open)
     */
    public R waitFor(Duration timeout) throws IOException, InterruptedException, TimeoutException {
        return channel.waitFor(timeout);
    }

    @Override
    public boolean isFinished() {
        return channel.isFinished();
    }
}
