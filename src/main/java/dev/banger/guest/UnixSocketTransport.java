package dev.banger.guest;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * The agent on a plain Unix stream socket: {@code banger-init agent --listen unix:PATH} on the host, or QEMU's
 * chardev socket for the guest's virtio-serial port (QEMU listens; every connection reaches the same port).
 */
public final class UnixSocketTransport implements AgentTransport {

    private final Path socket;

    public UnixSocketTransport(Path socket) {
        this.socket = Objects.requireNonNull(socket, "socket");
    }

    @Override
    public SocketChannel open(Duration timeout) throws IOException {
        SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            channel.connect(UnixDomainSocketAddress.of(socket));
            return channel;
        } catch (IOException e) {
            channel.close();
            throw new IOException("cannot connect to the guest agent socket " + socket + ": " + e.getMessage(), e);
        }
    }

    @Override
    public String describe() {
        return "unix:" + socket;
    }
}
