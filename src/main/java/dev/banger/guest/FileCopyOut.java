package dev.banger.guest;

import java.io.IOException;
import java.io.InputStream;

/**
 * A {@code file.read} in progress: a tar archive of a guest path (docs/agent-protocol.md, "File copy").
 * Read {@link #archive()} to its end, then {@link #finish()} for the counts; an {@link AgentException} from
 * either means the archive is incomplete and must be discarded.
 */
public final class FileCopyOut {

    private final AgentChannel<CopyStats> channel;

    FileCopyOut(AgentChannel<CopyStats> channel) {
        this.channel = channel;
    }

    /** The archive. Closing it early discards the rest (the copy still finishes in the guest). */
    public InputStream archive() {
        return channel.stdout();
    }

    /**
     * Discards what was not read of the archive and waits for the guest's verdict.
     *
     * @throws AgentException {@code not_found} when the path does not exist, or another failure of the copy
     */
    public CopyStats finish() throws IOException, InterruptedException {
        channel.stdout().close();
        return channel.waitFor();
    }

    /** Stops the copy in the guest. */
    public void cancel() throws IOException {
        channel.cancel();
    }
}
