package dev.banger.guest;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.Socket;

/**
 * A {@code file.read} in progress: a tar archive of a guest path (docs/agent-protocol.md, "File copy").
 * Read {@link #archive()} to its end, then {@link #finish()} for the counts; an {@link AgentException} from
 * either means the archive is incomplete and must be discarded. The archive comes over a TCP connection from the
 * guest when one was offered and made ({@link #overTcp()}), else as STDOUT frames.
 */
public final class FileCopyOut {

    private final AgentChannel<CopyStats> channel;
    private volatile Socket connection; // set once, in connect, before the handle is handed out
    private InputStream archive;

    FileCopyOut(AgentChannel<CopyStats> channel) {
        this.channel = channel;
        this.archive = channel.stdout();
    }

    /** Makes the TCP connection the OPEN offered; without one, EOF on stdin tells the guest to use the channel. */
    void connect(CopyConnection.Offer offer) throws IOException {
        CopyConnection.Accepted accepted;
        try {
            accepted = CopyConnection.establish(channel, offer, channel.description());
        } catch (IOException e) {
            cancel();
            throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            cancel();
            throw new InterruptedIOException("interrupted connecting for a copy out of the guest");
        }
        if (accepted == null) {
            channel.stdin().close();
            return;
        }
        connection = accepted.socket();
        channel.stdout().close(); // nothing comes there
        // Reading a connection the channel's failure closed reports the verdict (failureOr).
        archive = new FilterInputStream(accepted.in()) {
            @Override
            public int read() throws IOException {
                try {
                    return super.read();
                } catch (IOException e) {
                    throw failureOr(e);
                }
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                try {
                    return super.read(b, off, len);
                } catch (IOException e) {
                    throw failureOr(e);
                }
            }

            /** Discards the rest: the guest's helper goes on writing into a closed connection and fails. */
            @Override
            public void close() throws IOException {
                connection.close();
            }
        };
    }

    /** Why the connection broke: the channel's failure when it has one (it closed the connection), else e. */
    private IOException failureOr(IOException e) {
        if (channel.isFinished()) {
            try {
                channel.waitFor();
            } catch (AgentException failure) {
                return failure;
            } catch (IOException | InterruptedException other) {
                if (other instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        return e;
    }

    /** The archive. Closing it early discards the rest. */
    public InputStream archive() {
        return archive;
    }

    /** True when the archive comes over a TCP connection rather than the agent channel. */
    public boolean overTcp() {
        return connection != null;
    }

    /**
     * Discards what was not read of the archive and waits for the guest's verdict.
     *
     * @throws AgentException {@code not_found} when the path does not exist, or another failure of the copy
     */
    public CopyStats finish() throws IOException, InterruptedException {
        try {
            if (connection != null) {
                archive.transferTo(OutputStream.nullOutputStream()); // the rest, so the guest's helper ends as it should
            }
            archive.close();
            return channel.waitFor();
        } finally {
            CopyConnection.closeQuietly(connection);
        }
    }

    /** Stops the copy in the guest. */
    public void cancel() throws IOException {
        CopyConnection.closeQuietly(connection);
        channel.cancel();
    }
}
