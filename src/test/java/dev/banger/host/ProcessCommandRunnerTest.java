package dev.banger.host;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

class ProcessCommandRunnerTest {

    @Test
    void outputLinesArriveFromBothStreamsAndTheOutputIsStillCaptured() {
        List<String> lines = new CopyOnWriteArrayList<>();

        CommandResult result = new ProcessCommandRunner().run(Command.of("sh", "-c",
                "echo 'I: Retrieving libc6 2.36-9'; echo 'W: careful' >&2; printf 'no newline'")
                .withOutputLines(lines::add));

        assertThat(lines).containsExactlyInAnyOrder("I: Retrieving libc6 2.36-9", "W: careful", "no newline");
        assertThat(result.stdoutText()).isEqualTo("I: Retrieving libc6 2.36-9\nno newline");
        assertThat(result.stderrText()).isEqualTo("W: careful\n");
    }

    @Test
    void aListenerThatThrowsDoesNotStopTheProgramOrTheCapture() {
        CommandResult result = new ProcessCommandRunner().run(Command.of("seq", "1", "20000")
                .withOutputLines(line -> {
                    throw new IllegalStateException("listener broke on " + line);
                }));

        assertThat(result.succeeded()).isTrue();
        assertThat(result.stdoutText().lines()).hasSize(20000).endsWith("20000");
    }
}
