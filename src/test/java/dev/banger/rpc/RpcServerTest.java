package dev.banger.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.banger.api.Api;
import dev.banger.api.BangerException;
import dev.banger.api.Empty;
import dev.banger.api.ErrorCode;
import dev.banger.api.Event;
import dev.banger.api.Method;
import dev.banger.json.Json;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The transport on its own: a server with test handlers, raw clients sending good and bad frames. */
class RpcServerTest {

    record Echo(String text) {
    }

    static final Method<Echo, Echo> ECHO = new Method<>("test.echo", Echo.class, Echo.class);
    static final Method<Echo, Echo> STREAM = new Method<>("test.stream", Echo.class, Echo.class);
    static final Method<Empty, Empty> FAIL = new Method<>("test.fail", Empty.class, Empty.class);
    static final Method<Empty, Empty> CRASH = new Method<>("test.crash", Empty.class, Empty.class);
    static final Method<Empty, Empty> BLOCK = new Method<>("test.block", Empty.class, Empty.class);
    static final Method<Empty, Echo> INPUT = new Method<>("test.input", Empty.class, Echo.class);
    static final Method<Empty, Echo> READY = new Method<>("test.ready", Empty.class, Echo.class);
    static final Method<Echo, Echo> DATA_OUT = new Method<>("test.data-out", Echo.class, Echo.class);

    @TempDir
    Path dir;
    private RpcServer server;
    private Path socket;
    private final CountDownLatch blockCancelled = new CountDownLatch(1);

    @BeforeEach
    void start() throws IOException {
        Path runtime = dir.resolve("run");
        Files.createDirectories(runtime, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        socket = runtime.resolve("test.sock");
        HandlerRegistry handlers = new HandlerRegistry()
                .on(ECHO, (req, call) -> new Echo(req.text()))
                .on(STREAM, (req, call) -> {
                    for (int i = 0; i < 3; i++) {
                        call.emit(new Event.Progress("step" + i, "done", req.text(), i, -1, -1));
                    }
                    return new Echo("streamed");
                })
                .on(FAIL, (req, call) -> { throw BangerException.conflict("busy right now"); })
                .on(CRASH, (req, call) -> { throw new IllegalStateException("bug"); })
                .on(BLOCK, (req, call) -> {
                    call.onCancel(blockCancelled::countDown);
                    blockCancelled.await(10, TimeUnit.SECONDS);
                    return Empty.INSTANCE;
                })
                .on(READY, (req, call) -> {
                    call.emit(Event.Progress.started("ready", null));
                    long bytes = 0;
                    while (true) {
                        Input in = call.nextInput(5, TimeUnit.SECONDS);
                        if (in == null || Boolean.TRUE.equals(in.stdinEof())) {
                            return new Echo(Long.toString(bytes));
                        }
                        bytes += in.stdin().length;
                    }
                })
                .on(DATA_OUT, (req, call) -> {
                    byte[] b = req.text().getBytes(StandardCharsets.UTF_8);
                    call.emitData(b, 1, b.length - 1);
                    return new Echo("sent");
                })
                .on(INPUT, (req, call) -> {
                    StringBuilder got = new StringBuilder();
                    while (true) {
                        Input in = call.nextInput(5, TimeUnit.SECONDS);
                        if (in == null || Boolean.TRUE.equals(in.stdinEof())) {
                            return new Echo(got.toString());
                        }
                        got.append(new String(in.stdin(), StandardCharsets.UTF_8));
                    }
                });
        server = new RpcServer(socket, handlers, PeerPolicy.forCurrentUser(Optional.empty()));
        server.start();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void dataFramesCarryRawBytesBothWays() {
        try (RpcClient.OpenCall<Echo> call = client().open(READY, Empty.INSTANCE)) {
            assertThat(call.nextEvent()).isInstanceOfSatisfying(Event.Progress.class,
                    p -> assertThat(p.stage()).isEqualTo("ready"));
            byte[] chunk = new byte[3 << 20];
            for (int i = 0; i < 4; i++) {
                call.sendData(chunk, 1, chunk.length - 1);
            }
            call.send(Input.eof());
            assertThat(call.awaitResult(e -> { }).text()).isEqualTo(Long.toString(4L * ((3 << 20) - 1)));
        }
        List<Event> events = new ArrayList<>();
        assertThat(client().call(DATA_OUT, new Echo("xhello"), events::add).text()).isEqualTo("sent");
        assertThat(events).singleElement().isInstanceOfSatisfying(Event.Output.class, o -> {
            assertThat(o.stream()).isEqualTo("stdout");
            assertThat(new String(o.data(), StandardCharsets.UTF_8)).isEqualTo("hello");
        });
    }

    @Test
    void dataFramesGoIntoTheReceiversBuffersAndEventsStillComeAsEvents() {
        byte[] reused = new byte[64];
        List<String> received = new ArrayList<>();
        List<Integer> asked = new ArrayList<>();
        RpcClient.DataReceiver receiver = new RpcClient.DataReceiver() {
            @Override
            public byte[] buffer(int length) {
                asked.add(length);
                return reused;
            }

            @Override
            public void accept(byte[] buffer, int length) {
                assertThat(buffer).isSameAs(reused);
                received.add(new String(buffer, 0, length, StandardCharsets.UTF_8));
            }
        };
        List<Event> events = new ArrayList<>();
        try (RpcClient.OpenCall<Echo> call = client().open(DATA_OUT, new Echo("xa longer frame"))) {
            assertThat(call.awaitResult(events::add, receiver).text()).isEqualTo("sent");
        }
        try (RpcClient.OpenCall<Echo> call = client().open(DATA_OUT, new Echo("xshort"))) {
            assertThat(call.awaitResult(events::add, receiver).text()).isEqualTo("sent");
        }
        assertThat(asked).containsExactly(14, 5);
        assertThat(received).as("each frame's own bytes, not what an earlier one left in the buffer")
                .containsExactly("a longer frame", "short");
        assertThat(events).as("no data frame comes as an event").isEmpty();
        try (RpcClient.OpenCall<Echo> call = client().open(READY, Empty.INSTANCE)) {
            call.send(Input.eof());
            assertThat(call.awaitResult(events::add, receiver).text()).isEqualTo("0");
        }
        assertThat(events).as("JSON events are not data").singleElement().isInstanceOf(Event.Progress.class);
    }

    @Test
    void aCallThatFailsBeforeItsFirstEventSaysWhyToNextEvent() {
        try (RpcClient.OpenCall<Empty> call = client().open(FAIL, Empty.INSTANCE)) {
            assertThatThrownBy(call::nextEvent).hasMessage("busy right now");
        }
        try (RpcClient.OpenCall<Echo> call = client().open(ECHO, new Echo("direct"))) {
            assertThat(call.nextEvent()).as("the result came first").isNull();
            assertThat(call.awaitResult(e -> { }).text()).isEqualTo("direct");
        }
    }

    @Test
    void aDataFrameAsTheRequestIsRefused() throws IOException {
        ByteBuffer data = ByteBuffer.allocate(8).putInt(0x8000_0004).put("{}  ".getBytes(StandardCharsets.UTF_8)).flip();
        Map<?, ?> answer = rawCall(data);

        assertThat(errorCode(answer)).isEqualTo("bad_request");
        assertThat(errorMessage(answer)).contains("data frame");
    }

    @Test
    void socketIsPrivateToItsOwner() throws IOException {
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket))).isEqualTo("rw-------");
    }

    @Test
    void callsReturnTypedResults() {
        assertThat(client().call(ECHO, new Echo("hi")).text()).isEqualTo("hi");
    }

    @Test
    void eventsArriveBeforeTheResult() {
        List<Event> events = new ArrayList<>();
        Echo result = client().call(STREAM, new Echo("x"), events::add);

        assertThat(result.text()).isEqualTo("streamed");
        assertThat(events).extracting(e -> ((Event.Progress) e).stage()).containsExactly("step0", "step1", "step2");
    }

    @Test
    void serviceErrorsKeepTheirCodeAndMessage() {
        assertThatThrownBy(() -> client().call(FAIL, Empty.INSTANCE))
                .isInstanceOfSatisfying(BangerException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.CONFLICT);
                    assertThat(e.getMessage()).isEqualTo("busy right now");
                });
    }

    @Test
    void unexpectedExceptionsBecomeInternalErrorsAndTheServerLivesOn() {
        assertThatThrownBy(() -> client().call(CRASH, Empty.INSTANCE))
                .isInstanceOfSatisfying(BangerException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.INTERNAL));
        assertThat(client().call(ECHO, new Echo("still here")).text()).isEqualTo("still here");
    }

    @Test
    void unknownMethodGetsUnknownMethod() throws IOException {
        Map<?, ?> answer = rawCall(frame("{\"method\":\"vm.explode\",\"params\":{}}"));

        assertThat(errorCode(answer)).isEqualTo("unknown_method");
    }

    @Test
    void malformedJsonGetsBadRequest() throws IOException {
        assertThat(errorCode(rawCall(frame("{not json")))).isEqualTo("bad_request");
        assertThat(errorCode(rawCall(frame("[1,2,3]")))).isEqualTo("bad_request");
    }

    @Test
    void aNullRequestGetsBadRequest() throws IOException {
        Map<?, ?> answer = rawCall(frame("null"));

        assertThat(errorCode(answer)).isEqualTo("bad_request");
        assertThat(errorMessage(answer)).contains("null");
        assertThat(client().call(ECHO, new Echo("after")).text()).isEqualTo("after");
    }

    @Test
    void malformedInputFramesAreIgnoredAndTheCallGoesOn() throws IOException {
        try (SocketChannel ch = connect()) {
            ch.write(frame("{\"method\":\"test.input\",\"params\":{}}"));
            for (String input : List.of("null", "{}", "{\"stdin\":\"YQ==\",\"signal\":2}", "{\"resize\":[1]}",
                    "{\"signal\":0}", "{\"stdin\":\"Yg==\"}", "{\"stdinEof\":true}")) {
                ch.write(frame(input));
            }
            Map<?, ?> answer = readAnswer(ch);
            assertThat(answer.get("result")).isEqualTo(Map.of("text", "b"));
        }
    }

    @Test
    void connectionsBeyondTheBoundAreAnsweredBusyAndServedAgainAfterwards() throws Exception {
        Path busySocket = dir.resolve("run").resolve("busy.sock");
        RpcServer small = new RpcServer(busySocket, new HandlerRegistry().on(ECHO, (req, call) -> req),
                PeerPolicy.forCurrentUser(Optional.empty()), 2);
        small.start();
        try {
            SocketChannel idle1 = connectTo(busySocket);
            SocketChannel idle2 = connectTo(busySocket);
            Thread.sleep(200); // both taken by the server, each waiting for its request

            try (SocketChannel third = connectTo(busySocket)) {
                Map<?, ?> answer = readAnswer(third);
                assertThat(errorCode(answer)).isEqualTo("unavailable");
                assertThat(errorMessage(answer)).contains("busy").contains("2 connections");
            }
            idle1.close();
            idle2.close();
            long deadline = System.currentTimeMillis() + 5_000;
            while (true) {
                try {
                    assertThat(new RpcClient(busySocket).call(ECHO, new Echo("again")).text()).isEqualTo("again");
                    break;
                } catch (BangerException e) {
                    if (System.currentTimeMillis() > deadline) {
                        throw e;
                    }
                    Thread.sleep(50);
                }
            }
        } finally {
            small.close();
        }
    }

    @Test
    void badParametersGetInvalidArgument() throws IOException {
        Map<?, ?> answer = rawCall(frame("{\"method\":\"test.echo\",\"params\":{\"txt\":\"typo\"}}"));

        assertThat(errorCode(answer)).isEqualTo("invalid_argument");
        assertThat(errorMessage(answer)).contains("unknown field \"txt\"");
    }

    @Test
    void oversizedFrameGetsBadRequestWithoutReadingIt() throws IOException {
        ByteBuffer header = ByteBuffer.allocate(4).putInt(0, FrameChannel.MAX_FRAME + 1);
        Map<?, ?> answer = rawCall(header);

        assertThat(errorCode(answer)).isEqualTo("bad_request");
        assertThat(errorMessage(answer)).contains("outside 1..");
    }

    @Test
    void truncatedFrameIsDroppedAndOthersAreServed() throws IOException {
        try (SocketChannel ch = connect()) {
            ch.write(ByteBuffer.allocate(8).putInt(0, 100).put(4, (byte) '{'));
            ch.shutdownOutput();
            Map<?, ?> answer = readAnswer(ch);
            assertThat(errorCode(answer)).isEqualTo("bad_request");
            assertThat(errorMessage(answer)).contains("closed in the middle of a frame");
        }
        assertThat(client().call(ECHO, new Echo("next")).text()).isEqualTo("next");
    }

    @Test
    void aClientThatVanishesMidCallCancelsItAndOthersAreServed() throws Exception {
        SocketChannel ch = connect();
        ch.write(frame(Json.write(Map.of("method", "test.block", "params", Map.of()))));
        Thread.sleep(200);
        ch.close();

        assertThat(blockCancelled.await(5, TimeUnit.SECONDS)).as("the handler learned of the disconnect").isTrue();
        assertThat(client().call(ECHO, new Echo("fine")).text()).isEqualTo("fine");
    }

    @Test
    void streamingInputReachesTheHandler() {
        try (RpcClient.OpenCall<Echo> call = client().open(INPUT, Empty.INSTANCE)) {
            call.send(Input.data("ab".getBytes(StandardCharsets.UTF_8)));
            call.send(Input.data("cd".getBytes(StandardCharsets.UTF_8)));
            call.send(Input.eof());
            assertThat(call.awaitResult(e -> { }).text()).isEqualTo("abcd");
        }
    }

    @Test
    void manyConcurrentClientsAreServed() throws Exception {
        List<Thread> threads = new ArrayList<>();
        AtomicBoolean failed = new AtomicBoolean();
        for (int i = 0; i < 16; i++) {
            String text = "c" + i;
            Thread t = new Thread(() -> {
                for (int j = 0; j < 20; j++) {
                    if (!client().call(ECHO, new Echo(text)).text().equals(text)) {
                        failed.set(true);
                    }
                }
            });
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            t.join(30_000);
        }
        assertThat(failed).isFalse();
    }

    @Test
    void aMissingSocketIsDaemonNotRunning() {
        assertThatThrownBy(() -> new RpcClient(dir.resolve("nope.sock")).call(ECHO, new Echo("x")))
                .isInstanceOf(DaemonNotRunningException.class)
                .hasMessageContaining("bangerd is not running");
    }

    @Test
    void closingRemovesTheSocketFile() {
        server.close();
        assertThat(socket).doesNotExist();
    }

    private RpcClient client() {
        return new RpcClient(socket);
    }

    private SocketChannel connect() throws IOException {
        return connectTo(socket);
    }

    private static SocketChannel connectTo(Path socket) throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        ch.connect(UnixDomainSocketAddress.of(socket));
        return ch;
    }

    private Map<?, ?> rawCall(ByteBuffer bytes) throws IOException {
        try (SocketChannel ch = connect()) {
            while (bytes.hasRemaining()) {
                ch.write(bytes);
            }
            return readAnswer(ch);
        }
    }

    private static Map<?, ?> readAnswer(SocketChannel ch) throws IOException {
        byte[] frame = new FrameChannel(ch).readMessage();
        assertThat(frame).as("the server answered").isNotNull();
        return (Map<?, ?>) Json.parseTree(new String(frame, StandardCharsets.UTF_8));
    }

    private static ByteBuffer frame(String json) {
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(4 + body.length).putInt(body.length).put(body).flip();
    }

    private static String errorCode(Map<?, ?> answer) {
        return (String) ((Map<?, ?>) answer.get("error")).get("code");
    }

    private static String errorMessage(Map<?, ?> answer) {
        return (String) ((Map<?, ?>) answer.get("error")).get("message");
    }
}
