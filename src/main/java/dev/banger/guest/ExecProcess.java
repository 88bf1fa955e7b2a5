package dev.banger.guest;

import java.io.IOException;
import java.io.InputStream;

/**
 * A program running in the guest on one agent channel, shaped like {@link Process}. {@link #waitFor()} returns its
 * exit status, or throws an {@link AgentException} with code {@code exec_failed} when it could not start.
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
public final class ExecProcess extends InteractiveChannel<ExitStatus> {

    private final ExecSpec spec;

    ExecProcess(AgentChannel<ExitStatus> channel, ExecSpec spec) {
        super(channel);
        this.spec = spec;
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

    /**
     * Cancels: the agent kills the process group with SIGKILL and sends nothing more but the final status, which
     * {@link #waitFor()} still returns. Output not yet read is discarded. Idempotent.
     */
    public void cancel() throws IOException {
        channel.cancel();
    }

    /** The most output bytes ever held here unread (bounded by the flow-control window). */
    int maxBufferedBytes() {
        return channel.maxBufferedBytes();
    }
}
