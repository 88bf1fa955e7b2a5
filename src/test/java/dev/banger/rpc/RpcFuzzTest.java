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
 * uncaught throwable, and the server's threads return to what they were.
 */
class RpcFuzzTest {

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
            RpcFuzz.Outcome outcome = new RpcFuzz(socket, seed).run(10_000, 4);
            System.out.printf("rpc fuzz: seed %d, %d connections, %d error frames, %d closed unanswered%n", seed,
                    outcome.connections(), outcome.errorFrames(), outcome.closedWithoutAnswer());

            assertThat(outcome.problems()).as("connections that broke the rules (seed %d)", seed).isEmpty();
            assertThat(outcome.errorFrames()).as("most connections get an error frame").isGreaterThan(5_000);
            assertThat(logged).as("errors and exceptions logged (seed %d)", seed).isEmpty();
            assertThat(RpcFuzzLog.awaitServerThreads(threadsBefore, 15_000)).as("server threads after the run")
                    .isLessThanOrEqualTo(threadsBefore);
        } finally {
            server.close();
        }
    }
}
