package dev.banger.guest;

import java.io.IOException;
import java.io.OutputStream;

/**
 * A {@code file.write} in progress: write a tar archive to {@link #archive()}, then {@link #finish()}. Where it
 * lands and what is refused is in docs/agent-protocol.md ("File copy"). The guest may refuse an entry before the
 * archive is complete: writes then fail and {@link #finish()} throws the agent's reason.
 */
public final class FileCopyIn {

    private final AgentChannel<CopyStats> channel;

    FileCopyIn(AgentChannel<CopyStats> channel) {
        this.channel = channel;
    }

    /** Where the archive goes; flow-controlled (writes block while the guest catches up). */
    public OutputStream archive() {
        return channel.stdin();
    }

    /**
     * Ends the archive and waits for the guest to have extracted it.
     *
     * @throws AgentException {@code unsafe_path}, {@code bad_archive}, {@code not_found}, {@code io_error}
     */
    public CopyStats finish() throws IOException, InterruptedException {
        try {
            channel.stdin().close();
        } catch (IOException e) {
            // The guest ended the channel first; its verdict says why.
        }
        return channel.waitFor();
    }

    /**
     * The guest's verdict, when the channel has ended early (a refused entry): writes fail after it.
     *
     * @throws AgentException the agent's reason
     */
    public CopyStats result() throws IOException, InterruptedException {
        return channel.waitFor();
    }

    public boolean isFinished() {
        return channel.isFinished();
    }

    /** Stops the copy in the guest. */
    public void cancel() throws IOException {
        channel.cancel();
    }
}
