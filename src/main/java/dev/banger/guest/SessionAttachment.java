package dev.banger.guest;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.concurrent.TimeoutException;

/**
 * This side's view of a guest session (docs/agent-protocol.md, "Sessions"): its output (the ring buffer's replay,
 * then live), its input, and how the view ended. Closing the attachment never stops the session: {@link #detach()}
 * does nothing more than leave; only {@code AgentClient.killSession} stops it.
 *
 * <p>Read {@link #output()} steadily: the session never waits for a reader, so one that falls more than the ring
 * buffer behind loses output ({@link SessionOutcome#lostBytes()}). Input written to {@link #input()} goes to the
 * session's stdin or terminal; closing it ends only this attachment's copy of the descriptor.
 */
public final class SessionAttachment implements Interactive {

    private final AgentChannel<SessionOutcome> channel;
    private final String session;

    SessionAttachment(AgentChannel<SessionOutcome> channel, String session) {
        this.channel = channel;
        this.session = session;
    }

    public String session() {
        return session;
    }

    /** The session's output (stdout and stderr together, or what its terminal shows). Never null. */
    public InputStream output() {
        return channel.stdout();
    }

    /** The session's stdin (or terminal input); fails for a logs view. Never null. */
    @Override
    public OutputStream stdin() {
        return channel.stdin();
    }

    /** Resizes the session's terminal (ignored without one). */
    public void resize(int rows, int cols) throws IOException {
        channel.resize(rows, cols);
    }

    /** Sends {@code signal} to the session's process group. */
    public void signal(int signal) throws IOException {
        channel.signal(signal);
    }

    /** Leaves the session running; {@link #waitFor()} then returns a detached outcome. Idempotent. */
    public void detach() throws IOException {
        channel.cancel();
    }

    /**
     * Waits until the session has ended and its output has been delivered (or this side detached, or a logs view
     * reached the end of the output it was asked for).
     *
     * @throws AgentException {@code not_found} when there is no such session, or when the connection was lost
     */
    public SessionOutcome waitFor() throws IOException, InterruptedException {
        return channel.waitFor();
    }

    public SessionOutcome waitFor(Duration timeout) throws IOException, InterruptedException, TimeoutException {
        return channel.waitFor(timeout);
    }

    public boolean isFinished() {
        return channel.isFinished();
    }
}
