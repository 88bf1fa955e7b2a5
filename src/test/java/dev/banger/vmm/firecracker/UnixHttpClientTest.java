package dev.banger.vmm.firecracker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The HTTP/1.1 client against a raw server on a temp Unix socket that answers with canned bytes. */
@Timeout(value = 20, unit = TimeUnit.SECONDS)
class UnixHttpClientTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    @TempDir
    Path dir;

    private volatile ServerSocketChannel server;
    private volatile SocketChannel accepted;

    @AfterEach
    void close() throws IOException {
        if (accepted != null) {
            accepted.close();
        }
        if (server != null) {
            server.close();
        }
    }

    /** Serves one connection: reads the request head and body, answers {@code response}, closes if asked. */
    private CompletableFuture<String> serveOnce(String response, boolean closeAfter) throws IOException {
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(dir.resolve("api.sock")));
        return CompletableFuture.supplyAsync(() -> {
            try {
                accepted = server.accept();
                String request = readRequest(accepted);
                ByteBuffer out = ByteBuffer.wrap(response.getBytes(StandardCharsets.ISO_8859_1));
                while (out.hasRemaining()) {
                    accepted.write(out);
                }
                if (closeAfter) {
                    accepted.close();
                }
                return request;
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    private static String readRequest(SocketChannel c) throws IOException {
        ByteArrayOutputStream seen = new ByteArrayOutputStream();
        ByteBuffer one = ByteBuffer.allocate(1);
        while (!seen.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            one.clear();
            if (c.read(one) < 0) {
                break;
            }
            seen.write(one.get(0));
        }
        String head = seen.toString(StandardCharsets.ISO_8859_1);
        int length = 0;
        for (String line : head.split("\r\n")) {
            if (line.toLowerCase().startsWith("content-length:")) {
                length = Integer.parseInt(line.substring(15).strip());
            }
        }
        ByteBuffer body = ByteBuffer.allocate(length);
        while (body.hasRemaining() && c.read(body) >= 0) {
            // fill
        }
        return head + new String(body.array(), StandardCharsets.UTF_8);
    }

    private UnixHttpClient client() {
        return new UnixHttpClient(dir.resolve("api.sock"));
    }

    @Test
    void send_writesRequestLineHostJsonHeadersAndBody() throws Exception {
        CompletableFuture<String> request = serveOnce("HTTP/1.1 204 \r\nServer: Firecracker API\r\n"
                + "Connection: keep-alive\r\n\r\n", false);
        byte[] body = "{\"vcpu_count\":2}".getBytes(StandardCharsets.UTF_8);

        HttpResponse r = client().send("PUT", "/machine-config", body, TIMEOUT);

        assertThat(r.status()).isEqualTo(204);
        assertThat(r.reason()).as("Firecracker sends no reason phrase").isEmpty();
        assertThat(r.body()).isEmpty();
        assertThat(request.get(5, TimeUnit.SECONDS)).isEqualTo("PUT /machine-config HTTP/1.1\r\n"
                + "Host: localhost\r\nAccept: application/json\r\nContent-Type: application/json\r\n"
                + "Content-Length: 16\r\n\r\n{\"vcpu_count\":2}");
    }

    @Test
    void send_getHasNoBodyHeaders() throws Exception {
        CompletableFuture<String> request = serveOnce("HTTP/1.1 200 \r\nContent-Length: 2\r\n\r\n{}", false);
        client().send("GET", "/", null, TIMEOUT);
        assertThat(request.get(5, TimeUnit.SECONDS)).isEqualTo("GET / HTTP/1.1\r\nHost: localhost\r\n"
                + "Accept: application/json\r\n\r\n");
    }

    @Test
    void send_readsContentLengthBodyWithoutWaitingForClose() throws Exception {
        serveOnce("HTTP/1.1 400 \r\nServer: Firecracker API\r\nConnection: keep-alive\r\n"
                + "Content-Type: application/json\r\nContent-Length: 24\r\n\r\n{\"fault_message\":\"nope\"}", false);
        HttpResponse r = client().send("PUT", "/actions", "{}".getBytes(StandardCharsets.UTF_8), TIMEOUT);
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.bodyText()).isEqualTo("{\"fault_message\":\"nope\"}");
        assertThat(r.header("Content-Type")).isEqualTo("application/json");
    }

    @Test
    void send_decodesChunkedBodiesWithExtensionsAndTrailers() throws Exception {
        serveOnce("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "5;name=x\r\n{\"id\"\r\n"
                + "A\r\n:\"vm-1\",\"a\r\n"
                + "4\r\n\":1}\r\n"
                + "0\r\nX-Trailer: y\r\n\r\n", false);
        HttpResponse r = client().send("GET", "/", null, TIMEOUT);
        assertThat(r.reason()).isEqualTo("OK");
        assertThat(r.bodyText()).isEqualTo("{\"id\":\"vm-1\",\"a\":1}");
    }

    @Test
    void send_readsAnUnframedBodyToTheEndOfTheConnection() throws Exception {
        serveOnce("HTTP/1.0 200 OK\r\n\r\n{\"state\":\"Running\"}", true);
        assertThat(client().send("GET", "/", null, TIMEOUT).bodyText()).isEqualTo("{\"state\":\"Running\"}");
    }

    @Test
    void send_skipsInterim100ContinueResponses() throws Exception {
        serveOnce("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 \r\n\r\n", false);
        assertThat(client().send("PUT", "/vsock", "{}".getBytes(StandardCharsets.UTF_8), TIMEOUT).status())
                .isEqualTo(204);
    }

    @Test
    void send_timesOutWhenTheServerNeverAnswers() throws Exception {
        serveOnce("", false);
        assertThatThrownBy(() -> client().send("GET", "/", null, Duration.ofMillis(300)))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("GET / on " + dir.resolve("api.sock"))
                .hasMessageContaining("timed out after 300 ms");
    }

    @Test
    void send_refusesWhatIsNotHttp() throws Exception {
        serveOnce("SSH-2.0-OpenSSH\r\n", true);
        assertThatThrownBy(() -> client().send("GET", "/", null, TIMEOUT))
                .isInstanceOf(IOException.class).hasMessageContaining("not an HTTP/1.x response");
    }

    @Test
    void send_reportsABodyCutShort() throws Exception {
        serveOnce("HTTP/1.1 200 \r\nContent-Length: 10\r\n\r\n{\"a\"", true);
        assertThatThrownBy(() -> client().send("GET", "/", null, TIMEOUT))
                .isInstanceOf(IOException.class).hasMessageContaining("after 4 of 10 body bytes");
    }

    @Test
    void send_namesTheSocketWhenNothingListens() {
        assertThatThrownBy(() -> client().send("GET", "/", null, TIMEOUT))
                .isInstanceOf(IOException.class).hasMessageContaining(dir.resolve("api.sock").toString());
    }
}
