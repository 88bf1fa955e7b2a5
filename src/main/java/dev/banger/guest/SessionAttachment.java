package dev.banger.guest;

import java.io.IOException;
import java.io.InputStream;

/**
 * This side's view of a guest session (docs/agent-protocol.md, "Sessions"): its output (the ring buffer's replay,
 * then live), its input, and how the view ended. Closing the attachment never stops the session: {@link #detach()}
 * does nothing more than leave; only {@code AgentClient.killSession} stops it.
 *
 * <p>Read {@link #output()} steadily: the session never waits for a reader, so one that falls more than the ring
 * buffer behind loses output ({@link SessionOutcome#lostBytes()}). Input written to {@link #stdin()} goes to the
 * session's stdin or terminal; closing it ends only this attachment's copy of the descriptor; a logs view has no
 * input. {@link #waitFor()} returns once the session has ended and its output has been delivered (or this side
 * detached, or a logs view reached the end of the output it was asked for); it throws an {@link AgentException}
 * with code {@code not_found} when there is no such session.
 */
public final class SessionAttachment extends InteractiveChannel<SessionOutcome> {

    private final String session;

    SessionAttachment(AgentChannel<SessionOutcome> channel, String session) {
        super(channel);
        this.session = session;
    }

    public String session() {
        return session;
    }

    /** The session's output (stdout and stderr together, or what its terminal shows). Never null. */
    public InputStream output() {
        return channel.stdout();
    }

    /** Leaves the session running; {@link #waitFor()} then returns a detached outcome. Idempotent. */
    public void detach() throws IOException {
        channel.cancel();
    }
}
