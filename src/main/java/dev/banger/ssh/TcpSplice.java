package dev.banger.ssh;

import dev.banger.api.BangerException;
import dev.banger.api.Event;
import dev.banger.rpc.Call;
import dev.banger.rpc.Input;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon's half of {@code banger vm ssh-proxy}: one TCP connection (to a guest's port 22) spliced onto one RPC
 * call. Client input frames ({@link Input#data}, {@link Input#eof}) go to the socket; socket bytes come back as
 * {@link Event.Output} events on "stdout". The call ends when the far end closes its side (ssh's server closes
 * the connection when the session ends) or the client goes away (the socket is then closed). The daemon opens
 * the socket, so the client need not be in the guest network's namespace.
 */
public final class TcpSplice {

    private static final Logger log = LoggerFactory.getLogger(TcpSplice.class);
    private static final int CHUNK = 32 * 1024;
    static final Duration REFUSED_RETRY = Duration.ofMillis(250);

    private TcpSplice() {
    }

    /**
     * Connects to {@code target} and splices it onto {@code call} until the connection ends.
     *
     * @param connectTimeout how long to keep trying, refused connections included
     * @param what names the target in errors ("port 22 of VM 'demo'")
     * @throws BangerException unavailable when the connection cannot be made in time
     */
    public static void run(InetSocketAddress target, Duration connectTimeout, String what, Call call)
            throws InterruptedException {
        SocketChannel socket = connect(target, connectTimeout, what);
        call.onCancel(() -> closeQuietly(socket));
        Thread input = new Thread(() -> forwardInput(call, socket), "splice-in");
        input.setDaemon(true);
        input.start();
        try {
            ByteBuffer buffer = ByteBuffer.allocate(CHUNK);
            while (true) {
                int n = socket.read(buffer.clear());
                if (n < 0) {
                    break;
                }
                if (n > 0) {
                    call.emit(new Event.Output("stdout", Arrays.copyOf(buffer.array(), n)));
                }
            }
        } catch (IOException e) {
            log.debug("splice to {} ended: {}", target, e.toString());
        } finally {
            closeQuietly(socket);
            input.interrupt();
            input.join(1000);
        }
    }

    /**
     * Connects, retrying a refused connection until {@code timeout} has passed: a guest's sshd starts a moment
     * after the guest agent answers (seconds under TCG), and a just-booted VM is the common case.
     */
    private static SocketChannel connect(InetSocketAddress target, Duration timeout, String what)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            SocketChannel socket = null;
            try {
                socket = SocketChannel.open();
                long left = Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
                socket.socket().connect(target, (int) Math.min(Integer.MAX_VALUE, left));
                socket.socket().setTcpNoDelay(true);
                return socket;
            } catch (IOException e) {
                if (socket != null) {
                    closeQuietly(socket);
                }
                boolean refused = e instanceof java.net.ConnectException;
                if (!refused || System.nanoTime() + REFUSED_RETRY.toNanos() > deadline) {
                    String reason = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
                    throw BangerException.unavailable("cannot connect to " + what + " (" + target.getHostString()
                            + ":" + target.getPort() + "): " + reason + (refused ? " for " + timeout.toSeconds()
                            + "s; is the server running there?" : ""));
                }
                Thread.sleep(REFUSED_RETRY.toMillis());
            }
        }
    }

    /** Client → socket, until EOF from the client (half-close), the socket closing, or the call ending. */
    private static void forwardInput(Call call, SocketChannel socket) {
        try {
            while (socket.isOpen()) {
                Input in = call.nextInput(200, TimeUnit.MILLISECONDS);
                if (in == null) {
                    if (call.cancelled()) {
                        closeQuietly(socket);
                        return;
                    }
                    continue;
                }
                if (in.stdin() != null) {
                    ByteBuffer data = ByteBuffer.wrap(in.stdin());
                    while (data.hasRemaining()) {
                        socket.write(data);
                    }
                } else if (Boolean.TRUE.equals(in.stdinEof())) {
                    socket.shutdownOutput();
                    return;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            log.debug("splice input ended: {}", e.toString());
            closeQuietly(socket);
        }
    }

    private static void closeQuietly(SocketChannel socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // Nothing to do.
        }
    }
}
