package dev.banger.guest;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeoutException;

/**
 * A program running in the guest on one agent channel, shaped like {@link Process}.
 *
 * <p>Output is flow-controlled: the agent sends at most 256 KiB that this side has not consumed, so read
 * {@link #stdout()} and {@link #stderr()} concurrently (or close the one you do not want, which discards it);
 * a process whose output nobody reads stops when the window is full, and {@link #waitFor()} waits with it.
 * Writes to {@link #stdin()} block while the agent's window for stdin is used up.
 *
 * <p>Streams: closing {@link #stdin()} sends EOF to the program (with a PTY the terminal ignores it; send ^D);
 * closing {@link #stdout()} or {@link #stderr()} discards the rest of that output. None of them closes the
 * {@link AgentClient}. When the connection is lost, blocked and later calls throw {@link AgentException}.
 */
public final class ExecProcess implements Interactive {

    private final AgentChannel channel;
    private final ExecSpec spec;

    ExecProcess(AgentClient client, int channel, ExecSpec spec) {
        this.channel = new AgentChannel(client, channel, spec.toString(), spec.stdin());
        this.spec = spec;
    }

    /** The program's stdin; see the class comment for what closing it does. Never null. */
    public OutputStream stdin() {
        return channel.stdin();
    }

    /** The program's stdout (with a PTY: everything the terminal shows). Never null. */
    public InputStream stdout() {
        return channel.stdout();
    }

    /** The program's stderr (empty with a PTY). Never null. */
    public InputStream stderr() {
        return channel.stderr();
    }

    public ExecSpec spec() {
        return spec;
    }

    /** Sends {@code signal} (a Linux signal number) to the program's process group; ignored once it ended. */
    public void signal(int signal) throws IOException {
        channel.signal(signal);
    }

    /** Sets the PTY's size (the program gets SIGWINCH); ignored without a PTY or once the program ended. */
    public void resize(int rows, int cols) throws IOException {
        channel.resize(rows, cols);
    }

    /**
     * Cancels: the agent kills the process group with SIGKILL and sends nothing more but the final status, which
     * {@link #waitFor()} still returns. Output not yet read is discarded. Idempotent.
     */
    public void cancel() throws IOException {
        channel.cancel();
    }

    /**
     * Waits for the program to end and its output to arrive.
     *
     * @throws AgentException when it could not start in its working directory (code {@code exec_failed}), the
     *     agent failed the channel,
     *     or the connection was lost
     */
    public ExitStatus waitFor() throws IOException, InterruptedException {
        return ExitStatus.of(channel.waitFor());
    }

    /**
     * Like {@link #waitFor()}, for at most {@code timeout}.
     *
     * @throws TimeoutException when the program is still running then (it is left running)
     */
    public ExitStatus waitFor(Duration timeout) throws IOException, InterruptedException, TimeoutException {
        return ExitStatus.of(channel.waitFor(timeout));
    }

    public boolean isFinished() {
        return channel.isFinished();
    }

    /** The most output bytes ever held here unread (bounded by the flow-control window). */
    int maxBufferedBytes() {
        return channel.maxBufferedBytes();
    }

    AgentClient.ChannelHandler handler() {
        return channel.handler();
    }
}
