package dev.banger.rpc;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 10^4 fuzzed connections against a server of every API method (bench: RpcFuzz's main, bench/rpc-fuzz.sh, 10^5):
 * each gets an error frame or a close, nothing is logged as an error or with an exception, no thread dies of an
 * uncaught throwable, the server's threads return to what they were, and the heap (after full collections)
 * stays where it was within a few MiB: nothing a connection leaves behind piles up.
 */
class RpcFuzzTest {

    private static final int WARM_UP = 1_000;
    private static final int CONNECTIONS = 10_000;

    @TempDir
    Path dir;

    @Test
    void everyFuzzedConnectionGetsAnErrorFrameOrACloseAndNothingLeaks() throws Exception {
        List<String> logged = RpcFuzzLog.capture();
        Path socket = dir.resolve("fuzz.sock");
        RpcServer server = new RpcServer(socket, RpcFuzz.handlers(), PeerPolicy.forCurrentUser(Optional.empty()));
        server.start();
        try {
            int threadsBefore = RpcFuzzLog.serverThreads();
            long seed = Long.getLong("fuzz.seed", System.currentTimeMillis());
            // A warm-up first, so that classes, caches and pools the first calls set up count as the baseline.
            new RpcFuzz(socket, seed ^ 0x5eed).run(WARM_UP, 4);
            RpcFuzzLog.awaitServerThreads(threadsBefore, 15_000);
            long heapBefore = RpcFuzzLog.usedHeapAfterGc();
            RpcFuzz.Outcome outcome = new RpcFuzz(socket, seed).run(CONNECTIONS, 4);
            int threadsAfter = RpcFuzzLog.awaitServerThreads(threadsBefore, 15_000);
            long heapGrowth = RpcFuzzLog.usedHeapAfterGc() - heapBefore;
            System.out.printf("rpc fuzz: seed %d, %d connections, %d error frames, %d closed unanswered, "
                            + "heap %+d KiB%n", seed, outcome.connections(), outcome.errorFrames(),
                    outcome.closedWithoutAnswer(), heapGrowth / 1024);

            assertThat(outcome.problems()).as("connections that broke the rules (seed %d)", seed).isEmpty();
            assertThat(outcome.errorFrames()).as("most connections get an error frame").isGreaterThan(5_000);
            assertThat(logged).as("errors and exceptions logged (seed %d)", seed).isEmpty();
            assertThat(threadsAfter).as("server threads after the run").isLessThanOrEqualTo(threadsBefore);
            assertThat(heapGrowth).as("heap the JVM (server and fuzzer) still holds after %d connections, bytes",
                    CONNECTIONS).isLessThan(RpcFuzz.MAX_HEAP_GROWTH);
        } finally {
            server.close();
        }
    }
}
