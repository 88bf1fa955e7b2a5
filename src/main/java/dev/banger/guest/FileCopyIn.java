package dev.banger.guest;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.Socket;

/**
 * A {@code file.write} in progress: write a tar archive to {@link #archive()}, then {@link #finish()}. Where it
 * lands and what is refused is in docs/agent-protocol.md ("File copy"). The guest may refuse an entry before the
 * archive is complete: writes then fail and {@link #finish()} throws the agent's reason. The archive goes over a
 * TCP connection to the guest when one was offered and made ({@link #overTcp()}), else as STDIN frames.
 */
public final class FileCopyIn {

    private final AgentChannel<CopyStats> channel;
    private volatile Socket connection; // set once, in connect, before the handle is handed out
    private OutputStream archive;

    FileCopyIn(AgentChannel<CopyStats> channel) {
        this.channel = channel;
        this.archive = channel.stdin();
    }

    /** Makes the TCP connection the OPEN offered; without one the archive stays on the channel. */
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
            throw new InterruptedIOException("interrupted connecting for a copy into the guest");
        }
        if (accepted != null) {
            connection = accepted.socket();
            // Writing to a connection the channel's failure closed fails, and finish() says why.
            archive = new FilterOutputStream(accepted.out()) {
                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    out.write(b, off, len);
                }

                /** Ends the archive: the guest reads end-of-file, finishes and answers on the channel. */
                @Override
                public void close() throws IOException {
                    if (!connection.isOutputShutdown() && !connection.isClosed()) {
                        connection.shutdownOutput();
                    }
                }
            };
        }
    }

    /** Where the archive goes; flow-controlled (writes block while the guest catches up). */
    public OutputStream archive() {
        return archive;
    }

    /** True when the archive goes over a TCP connection rather than the agent channel. */
    public boolean overTcp() {
        return connection != null;
    }

    /**
     * Ends the archive and waits for the guest to have extracted it.
     *
     * @throws AgentException {@code unsafe_path}, {@code bad_archive}, {@code not_found}, {@code io_error}
     */
    public CopyStats finish() throws IOException, InterruptedException {
        try {
            archive.close();
        } catch (IOException e) {
            // The guest ended the copy first; its verdict says why.
        }
        try {
            return channel.waitFor();
        } finally {
            CopyConnection.closeQuietly(connection);
        }
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
        CopyConnection.closeQuietly(connection);
        channel.cancel();
    }
}
