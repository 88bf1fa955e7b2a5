package dev.banger.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.banger.api.Api;
import dev.banger.api.BangerException;
import dev.banger.api.Empty;
import dev.banger.api.ErrorCode;
import dev.banger.api.VmConnectRequest;
import dev.banger.rpc.HandlerRegistry;
import dev.banger.rpc.Input;
import dev.banger.rpc.PeerPolicy;
import dev.banger.rpc.RpcClient;
import dev.banger.rpc.RpcServer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ssh proxy path without a VM: the CLI half ({@link ProxyPump}) and the daemon half ({@link TcpSplice}) over a
 * real RPC server, spliced onto a TCP echo server on 127.0.0.1 standing in for the guest's sshd.
 */
class TcpSpliceTest {

    @TempDir
    Path dir;
    private RpcServer server;
    private RpcClient client;
    private ServerSocket echo;
    private final CompletableFuture<String> echoEnded = new CompletableFuture<>();

    @BeforeEach
    void start() throws Exception {
        echo = new ServerSocket(0, 5, InetAddress.getLoopbackAddress());
        Thread t = new Thread(this::serveEcho, "echo");
        t.setDaemon(true);
        t.start();
        Path runtime = Files.createDirectory(dir.resolve("run"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        server = new RpcServer(runtime.resolve("d.sock"), new HandlerRegistry().on(Api.VM_CONNECT, (req, call) -> {
            TcpSplice.run(new InetSocketAddress(InetAddress.getLoopbackAddress(), req.port()), Duration.ofSeconds(2),
                    "port " + req.port() + " of VM '" + req.name() + "'", call);
            return Empty.INSTANCE;
        }), PeerPolicy.forCurrentUser(Optional.empty()));
        server.start();
        client = new RpcClient(runtime.resolve("d.sock"));
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
        echo.close();
    }

    /** Echoes one connection until the client half-closes, then closes, as sshd closes after a session. */
    private void serveEcho() {
        try (Socket s = echo.accept()) {
            s.getInputStream().transferTo(s.getOutputStream());
            echoEnded.complete("eof");
        } catch (Exception e) {
            echoEnded.complete("error: " + e);
        }
    }

    @Test
    void bytesRoundTripThroughTheDaemonUnchanged() {
        byte[] payload = new byte[3 * 1024 * 1024 + 17];
        new Random(42).nextBytes(payload);
        ByteArrayOutputStream out = new ByteArrayOutputStream();

        try (RpcClient.OpenCall<Empty> call = client.open(Api.VM_CONNECT,
                new VmConnectRequest("demo", echo.getLocalPort()))) {
            ProxyPump.run(call, new ByteArrayInputStream(payload), out);
        }

        assertThat(out.toByteArray()).as("binary-safe, in order, across many chunks").isEqualTo(payload);
        assertThat(echoEnded.join()).isEqualTo("eof");
    }

    @Test
    void nothingListeningIsOneClearError() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }

        assertThatThrownBy(() -> {
            try (RpcClient.OpenCall<Empty> call = client.open(Api.VM_CONNECT,
                    new VmConnectRequest("demo", closedPort))) {
                ProxyPump.run(call, InputStream.nullInputStream(), new ByteArrayOutputStream());
            }
        }).isInstanceOfSatisfying(BangerException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE))
                .hasMessageContaining("cannot connect to port " + closedPort + " of VM 'demo'")
                .hasMessageContaining("refused");
    }

    @Test
    void aServerThatStartsListeningLateIsWaitedFor() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        CompletableFuture<byte[]> got = CompletableFuture.supplyAsync(() -> {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try (RpcClient.OpenCall<Empty> call = client.open(Api.VM_CONNECT, new VmConnectRequest("demo", port))) {
                ProxyPump.run(call, InputStream.nullInputStream(), out);
            }
            return out.toByteArray();
        });
        Thread.sleep(600);

        try (ServerSocket late = new ServerSocket(port, 1, InetAddress.getLoopbackAddress());
             Socket s = late.accept()) {
            s.getOutputStream().write("SSH-2.0-late\r\n".getBytes());
        }

        assertThat(new String(got.get(10, TimeUnit.SECONDS))).isEqualTo("SSH-2.0-late\r\n");
    }

    @Test
    void aClientThatGoesAwayClosesTheGuestConnection() throws Exception {
        RpcClient.OpenCall<Empty> call = client.open(Api.VM_CONNECT, new VmConnectRequest("demo", echo.getLocalPort()));
        call.send(Input.data("hello".getBytes()));
        Thread.sleep(200);

        call.close();

        assertThat(echoEnded.get(10, TimeUnit.SECONDS)).as("the daemon closed its socket to the guest")
                .isIn("eof", "error: java.net.SocketException: Connection reset");
    }

    @Test
    void vmNameOf_acceptsWhatSshPassesAsPercentH() {
        assertThat(ProxyPump.vmNameOf("demo.vm")).isEqualTo("demo");
        assertThat(ProxyPump.vmNameOf("Demo.VM.")).isEqualTo("demo");
        assertThat(ProxyPump.vmNameOf("demo")).isEqualTo("demo");
    }
}
