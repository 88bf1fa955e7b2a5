package dev.banger.guest;

import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.time.Duration;

/** A way to reach a guest agent: each {@link #open} gives a new byte stream speaking the agent protocol. */
public interface AgentTransport {

    /**
     * Opens a connected, blocking stream to the agent, trying for at most {@code timeout}. The caller owns the
     * returned channel and closes it (an {@link AgentClient} built on it does so when it is closed).
     *
     * @throws IOException when no stream could be opened in time; the message names the socket
     */
    SocketChannel open(Duration timeout) throws IOException;

    /** Where this transport leads, for messages: {@code unix:/path} or {@code vsock:/path:1024}. */
    String describe();
}
