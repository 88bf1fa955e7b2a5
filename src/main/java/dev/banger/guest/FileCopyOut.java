package dev.banger.guest;

import java.io.IOException;
import java.io.InputStream;

/**
 * A {@code file.read} in progress: a tar archive of a guest path (docs/agent-protocol.md, "File copy").
 * Read {@link #archive()} to its end, then {@link #finish()} for the counts; an {@link AgentException} from
 * either means the archive is incomplete and must be discarded.
 */
public final class FileCopyOut {

    private final AgentChannel channel;

    FileCopyOut(AgentClient client, int id, String path) {
        this.channel = new AgentChannel(client, id, "copy of " + path + " out of the guest", false);
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
        return CopyStats.of(channel.waitFor());
    }

    /** Stops the copy in the guest. */
    public void cancel() throws IOException {
        channel.cancel();
    }

    AgentClient.ChannelHandler handler() {
        return channel.handler();
    }
}
