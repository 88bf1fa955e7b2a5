package dev.banger.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The daemon's stdout and stderr pass a bounded number of bytes, then one note, then nothing. */
class CappedOutputStreamTest {

    @Test
    void passesUpToTheLimitThenOneNoteThenNothing() throws Exception {
        ByteArrayOutputStream target = new ByteArrayOutputStream();
        CappedOutputStream capped = new CappedOutputStream(target, 10, "dropped");

        capped.write("0123456".getBytes(StandardCharsets.UTF_8));
        capped.write("789abc".getBytes(StandardCharsets.UTF_8));
        for (int i = 0; i < 100_000; i++) {
            capped.write('x');
        }

        assertThat(target.toString(StandardCharsets.UTF_8)).isEqualTo("0123456789\ndropped\n");
    }
}
