package dev.banger.vm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.banger.bench.Soak;
import dev.banger.testkit.BangerHome;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The bounded soak ({@code bench/soak.sh} runs the same {@link Soak} with more operations): 40 random lifecycle
 * operations, 10 of them alongside a {@code kill -9} of the daemon, and after each the daemon's records agree with
 * the host; at the end nothing is left.
 */
@Tag("vm")
class SoakIT {

    /** A seed whose kill schedule has 10 daemon kills in 40 operations (the operations vary with timing). */
    static final long SEED = 18;

    @Test
    void fortyOperationsWithTenDaemonKillsLeaveRecordsTrueAndNothingBehind() throws Exception {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Soak.Outcome outcome;
        try (BangerHome banger = BangerHome.create();
             PrintStream out = new PrintStream(new TeeStream(log), true, StandardCharsets.UTF_8)) {
            outcome = new Soak(banger, SEED, 0.25, out).run(40);
        }
        String report = log.toString(StandardCharsets.UTF_8);
        assertThat(outcome.ops()).isEqualTo(40);
        assertThat(outcome.kills()).as("daemon kills (10 scheduled): " + report).isGreaterThanOrEqualTo(8);
        assertThat(outcome.disagreements()).as(report).isZero();
        assertThat(outcome.leaks()).as(report).isZero();
    }

    /** The soak's log, kept for the assertion messages and shown as it goes (in the test's output file). */
    private static final class TeeStream extends java.io.OutputStream {
        private final ByteArrayOutputStream copy;

        TeeStream(ByteArrayOutputStream copy) {
            this.copy = copy;
        }

        @Override
        public void write(int b) {
            copy.write(b);
            System.out.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            copy.write(b, off, len);
            System.out.write(b, off, len);
        }
    }
}
