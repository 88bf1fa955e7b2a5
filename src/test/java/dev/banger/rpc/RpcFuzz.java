package dev.banger.rpc;

import dev.banger.api.Api;
import dev.banger.api.BangerException;
import dev.banger.api.Method;
import dev.banger.json.Json;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Sends fuzzed connections to an RPC socket: random bytes, bad and truncated length prefixes, JSON that is not an
 * envelope, envelopes of every {@link Api} method (and unknown ones) with parameters of random shape, and
 * well-formed requests followed by fuzzed input frames. Each connection writes its bytes, closes its sending side
 * and reads until the daemon closes: it must see only well-formed response frames, the last one an error (or
 * none at all), within {@link #ANSWER_TIMEOUT_MS}.
 *
 * <p>{@link #handlers()} is a registry of every API method whose handlers decode the real request type and then
 * fail (reading the call's input first for some), so nothing acts on a fuzzed request.
 */
public final class RpcFuzz {

    static final long ANSWER_TIMEOUT_MS = 10_000;
    /**
     * What a run may leave on the heap (after full collections, a warm-up's setup not counted): a few MiB of
     * noise, under what a leak of 1 KiB per connection (a buffer, a frame, a call kept) piles up in 10^4.
     */
    static final long MAX_HEAP_GROWTH = 8L << 20;

    /** What a run saw. {@code problems} lists connections whose answer broke the rules (empty when all held). */
    public record Outcome(int connections, int errorFrames, int closedWithoutAnswer, List<String> problems) {
    }

    private final Path socket;
    private final long seed;

    public RpcFuzz(Path socket, long seed) {
        this.socket = socket;
        this.seed = seed;
    }

    /** A registry serving every API method: decode, maybe read input, then fail with {@code not_found}. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    public static HandlerRegistry handlers() {
        HandlerRegistry registry = new HandlerRegistry();
        for (Method<?, ?> method : Api.ALL) {
            registry.on((Method) method, (req, call) -> {
                if (method.name().equals("vm.exec") || method.name().equals("vm.copy-in")) {
                    while (call.nextInput(200, TimeUnit.MILLISECONDS) != null) {
                        // Drain what the client sends, as a streaming handler does.
                    }
                }
                throw BangerException.notFound("fuzz: " + method.name() + " has nothing to act on");
            });
        }
        return registry;
    }

    /** Runs {@code total} connections over {@code threads} client threads. */
    public Outcome run(int total, int threads) throws InterruptedException {
        AtomicInteger next = new AtomicInteger();
        AtomicInteger errors = new AtomicInteger();
        AtomicInteger closed = new AtomicInteger();
        ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread worker = new Thread(() -> {
                int i;
                while ((i = next.getAndIncrement()) < total) {
                    Random random = new Random(seed * 1_000_003L + i);
                    byte[] bytes = connection(random);
                    try {
                        String problem = exchange(bytes, errors, closed);
                        if (problem != null) {
                            problems.add("connection " + i + ": " + problem + " (sent "
                                    + preview(bytes) + ")");
                        }
                    } catch (IOException e) {
                        problems.add("connection " + i + ": " + e + " (sent " + preview(bytes) + ")");
                    }
                }
            }, "fuzz-client-" + t);
            workers.add(worker);
            worker.start();
        }
        for (Thread worker : workers) {
            worker.join();
        }
        return new Outcome(total, errors.get(), closed.get(), List.copyOf(problems));
    }

    private String exchange(byte[] bytes, AtomicInteger errors, AtomicInteger closed) throws IOException {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            try {
                ByteBuffer out = ByteBuffer.wrap(bytes);
                while (out.hasRemaining()) {
                    ch.write(out);
                }
                ch.shutdownOutput();
            } catch (IOException e) {
                // The daemon may answer and close before reading all of a bad frame: read what it said.
            }
            FrameChannel frames = new FrameChannel(ch);
            long deadline = System.currentTimeMillis() + ANSWER_TIMEOUT_MS;
            Map<?, ?> last = null;
            Thread reader = Thread.currentThread();
            java.util.concurrent.ScheduledFuture<?> timeout = TIMER.schedule(() -> {
                try {
                    ch.close();
                } catch (IOException ignored) {
                    // Closing makes the blocked read fail, which reports the timeout.
                }
            }, ANSWER_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            try {
                while (true) {
                    byte[] frame;
                    try {
                        FrameChannel.Frame read = frames.read();
                        if (read != null && read.data()) {
                            return "a data frame in answer to a request that streams no data";
                        }
                        frame = read == null ? null : read.bytes();
                    } catch (IOException e) {
                        if (System.currentTimeMillis() >= deadline) {
                            return "no answer and no close within " + ANSWER_TIMEOUT_MS + " ms";
                        }
                        if (last == null && e.getMessage() != null && e.getMessage().contains("reset")) {
                            closed.incrementAndGet(); // The daemon closed with our bytes unread.
                            return null;
                        }
                        return "reading the answer: " + e;
                    }
                    if (frame == null) {
                        break;
                    }
                    Object tree = Json.parseTree(new String(frame, StandardCharsets.UTF_8));
                    if (!(tree instanceof Map<?, ?> map)) {
                        return "a response frame that is not an object: " + preview(frame);
                    }
                    if (last != null && !last.containsKey("event")) {
                        return "a frame after the final one";
                    }
                    last = map;
                }
            } finally {
                timeout.cancel(false);
            }
            if (last == null) {
                closed.incrementAndGet();
                return null;
            }
            if (!(last.get("error") instanceof Map<?, ?> error) || !(error.get("code") instanceof String)
                    || !(error.get("message") instanceof String)) {
                return "the last frame is not an error: " + last;
            }
            errors.incrementAndGet();
            return null;
        }
    }

    private static final java.util.concurrent.ScheduledExecutorService TIMER =
            java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "fuzz-timer");
                t.setDaemon(true);
                return t;
            });

    /** The bytes one fuzzed connection sends. */
    static byte[] connection(Random r) {
        return switch (r.nextInt(10)) {
            case 0 -> frame(randomBytes(r, 1 + r.nextInt(64)));
            case 1 -> badLength(r);
            case 2 -> truncated(r);
            case 3 -> frame(utf8(jsonNotEnvelope(r)));
            case 4, 5 -> frame(utf8(Json.write(envelope(r))));
            case 6 -> requestWithInputs(r);
            case 7 -> new byte[0];
            default -> frame(mutate(r, utf8(Json.write(envelope(r)))));
        };
    }

    private static byte[] badLength(Random r) {
        int[] lengths = {0, -1, Integer.MIN_VALUE, FrameChannel.MAX_FRAME + 1, Integer.MAX_VALUE};
        ByteBuffer b = ByteBuffer.allocate(4 + 8).putInt(lengths[r.nextInt(lengths.length)]);
        b.put(randomBytes(r, 8));
        return b.array();
    }

    private static byte[] truncated(Random r) {
        byte[] whole = frame(utf8(Json.write(envelope(r))));
        return java.util.Arrays.copyOf(whole, r.nextInt(whole.length));
    }

    private static String jsonNotEnvelope(Random r) {
        String[] values = {"null", "true", "false", "0", "-1", "1e999", "\"vm.list\"", "[]", "[null]", "{}",
                "{\"method\":null}", "{\"method\":5}", "{\"method\":\"vm.list\",\"params\":[]}",
                "{\"method\":\"vm.list\",\"params\":\"x\"}", "{\"method\":[\"vm.list\"]}", "\"\\ud800\"",
                "{\"method\":\"vm.list\",\"method\":\"vm.show\"}", "{\"params\":{}}", " ", "{\"a\":1}garbage"};
        if (r.nextInt(8) == 0) {
            int depth = 100 + r.nextInt(200);
            return "[".repeat(depth) + "]".repeat(r.nextBoolean() ? depth : depth / 2);
        }
        return values[r.nextInt(values.length)];
    }

    private static Map<String, Object> envelope(Random r) {
        Map<String, Object> envelope = new LinkedHashMap<>();
        Method<?, ?> method = Api.ALL.get(r.nextInt(Api.ALL.size()));
        envelope.put("method", r.nextInt(12) == 0 ? randomString(r) : method.name());
        if (r.nextInt(6) != 0) {
            envelope.put("params", r.nextInt(5) == 0 ? randomValue(r, 2) : params(r, method.requestType()));
        }
        if (r.nextInt(10) == 0) {
            envelope.put(randomString(r), randomValue(r, 1));
        }
        return envelope;
    }

    /** An object with the request type's field names (some), each with a value of random shape. */
    private static Map<String, Object> params(Random r, Class<?> type) {
        Map<String, Object> params = new LinkedHashMap<>();
        java.lang.reflect.RecordComponent[] fields = type.getRecordComponents();
        if (fields != null) {
            for (java.lang.reflect.RecordComponent f : fields) {
                if (r.nextInt(3) != 0) {
                    params.put(f.getName(), randomValue(r, 2));
                }
            }
        }
        if (r.nextInt(8) == 0) {
            params.put(randomString(r), randomValue(r, 1));
        }
        return params;
    }

    private static Object randomValue(Random r, int depth) {
        switch (r.nextInt(depth > 0 ? 10 : 7)) {
            case 0:
                return null;
            case 1:
                return r.nextBoolean();
            case 2:
                long[] edges = {0, -1, 1, Integer.MAX_VALUE, Integer.MIN_VALUE, Long.MAX_VALUE, Long.MIN_VALUE,
                        65536, -65536};
                return edges[r.nextInt(edges.length)];
            case 3:
                return r.nextDouble() * 1e6 - 5e5;
            case 4:
                return new java.math.BigInteger(200, r);
            case 5:
            case 6:
                return randomString(r);
            case 7:
            case 8: {
                List<Object> list = new ArrayList<>();
                for (int i = r.nextInt(4); i > 0; i--) {
                    list.add(randomValue(r, depth - 1));
                }
                return list;
            }
            default: {
                Map<String, Object> map = new LinkedHashMap<>();
                for (int i = r.nextInt(4); i > 0; i--) {
                    map.put(randomString(r), randomValue(r, depth - 1));
                }
                return map;
            }
        }
    }

    private static String randomString(Random r) {
        String[] values = {"", "x", "vm", "../../etc/passwd", "/root/secret", "a\u0000b", "é", "\ud83d\ude00",
                "-1", "null", "name with spaces", "\n", "a".repeat(300), "vm.list", "debian:bookworm"};
        if (r.nextInt(4) == 0) {
            StringBuilder s = new StringBuilder();
            for (int i = r.nextInt(16); i > 0; i--) {
                s.append((char) r.nextInt(0x3000));
            }
            return s.toString();
        }
        return values[r.nextInt(values.length)];
    }

    /** A well-formed streaming request, then input frames of random shape. */
    private static byte[] requestWithInputs(Random r) {
        Map<String, Object> request = Map.of("method", r.nextBoolean() ? "vm.exec" : "vm.copy-in",
                "params", Map.of("name", "x", "path", "/x", "argv", List.of("true")));
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        out.writeBytes(frame(utf8(Json.write(request))));
        String[] inputs = {"null", "{}", "[]", "{\"stdin\":\"aGk=\"}", "{\"stdinEof\":true}", "{\"signal\":9}",
                "{\"signal\":-5}", "{\"signal\":100000}", "{\"resize\":[1]}", "{\"resize\":[0,0]}",
                "{\"resize\":[24,80,3]}", "{\"resize\":[24,80]}", "{\"stdin\":\"***\"}",
                "{\"stdin\":\"aGk=\",\"signal\":2}", "{\"stdin\":null}", "{\"bogus\":1}", "7"};
        for (int i = r.nextInt(6); i > 0; i--) {
            out.writeBytes(r.nextInt(6) == 0 ? frame(randomBytes(r, 1 + r.nextInt(16)))
                    : frame(utf8(inputs[r.nextInt(inputs.length)])));
        }
        return out.toByteArray();
    }

    private static byte[] mutate(Random r, byte[] bytes) {
        byte[] copy = bytes.clone();
        for (int i = 1 + r.nextInt(4); i > 0; i--) {
            copy[r.nextInt(copy.length)] = (byte) r.nextInt(256);
        }
        return copy;
    }

    private static byte[] frame(byte[] body) {
        return ByteBuffer.allocate(4 + body.length).putInt(body.length).put(body).array();
    }

    private static byte[] randomBytes(Random r, int n) {
        byte[] b = new byte[n];
        r.nextBytes(b);
        return b;
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String preview(byte[] bytes) {
        String s = new String(bytes, 0, Math.min(bytes.length, 120), StandardCharsets.ISO_8859_1)
                .replaceAll("[^\\x20-\\x7e]", "?");
        return bytes.length + " bytes: " + s;
    }

    /**
     * This JVM's resident set ({@code VmRSS}), reported by the bench beside the heap: the JVM seldom gives memory
     * back to the OS, so RSS is reported, and the heap (what the server holds) is what is checked.
     */
    private static long residentKib() throws java.io.IOException {
        for (String line : java.nio.file.Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }

    /**
     * Bench: a server with {@link #handlers()} in this JVM, N fuzzed connections (default 100000), the outcome,
     * the server's connection threads, the heap and the resident set before and after. Exits non-zero when any rule broke
     * (the heap: more than {@link #MAX_HEAP_GROWTH} still held after full collections).
     */
    public static void main(String[] args) throws Exception {
        int total = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : 8;
        Path dir = java.nio.file.Files.createTempDirectory("banger-rpc-fuzz");
        Path socket = dir.resolve("fuzz.sock");
        List<String> logged = RpcFuzzLog.capture();
        RpcServer server = new RpcServer(socket, handlers(), PeerPolicy.forCurrentUser(java.util.Optional.empty()));
        server.start();
        try {
            int threadsBefore = RpcFuzzLog.serverThreads();
            new RpcFuzz(socket, System.nanoTime()).run(1_000, threads); // Warm-up: its setup is the baseline.
            RpcFuzzLog.awaitServerThreads(threadsBefore, 15_000);
            long heapBefore = RpcFuzzLog.usedHeapAfterGc();
            long rssBefore = residentKib();
            long start = System.nanoTime();
            Outcome outcome = new RpcFuzz(socket, System.nanoTime()).run(total, threads);
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            int threadsAfter = RpcFuzzLog.awaitServerThreads(threadsBefore, 15_000);
            long heapGrowth = RpcFuzzLog.usedHeapAfterGc() - heapBefore;
            long rssAfter = residentKib();
            System.out.printf("connections=%d error_frames=%d closed=%d problems=%d log_exceptions=%d "
                            + "ms=%d per_s=%.0f server_threads_before=%d after=%d heap_growth_kib=%d "
                            + "rss_before_kib=%d rss_after_kib=%d%n",
                    outcome.connections(), outcome.errorFrames(), outcome.closedWithoutAnswer(),
                    outcome.problems().size(), logged.size(), ms, total * 1000.0 / ms, threadsBefore, threadsAfter,
                    heapGrowth / 1024, rssBefore, rssAfter);
            outcome.problems().stream().limit(10).forEach(p -> System.out.println("problem: " + p));
            logged.stream().limit(10).forEach(l -> System.out.println("logged: " + l));
            boolean ok = outcome.problems().isEmpty() && logged.isEmpty() && threadsAfter <= threadsBefore
                    && heapGrowth < MAX_HEAP_GROWTH;
            System.exit(ok ? 0 : 1);
        } finally {
            server.close();
            java.nio.file.Files.deleteIfExists(socket);
            java.nio.file.Files.deleteIfExists(dir);
        }
    }
}
