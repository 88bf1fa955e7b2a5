package dev.banger.image.layer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class ReadAheadTest {

    @Test
    void deliversTheSourceByteForByteThenEnds() throws IOException {
        byte[] data = new byte[3 * 1024 * 1024 + 17];
        new Random(1).nextBytes(data);
        try (ReadAhead in = new ReadAhead(new ByteArrayInputStream(data))) {
            assertThat(in.readAllBytes()).isEqualTo(data);
            assertThat(in.read()).isEqualTo(-1);
        }
    }

    @Test
    void aSourceErrorReachesTheReaderWhereItHappenedWithItsCause() throws IOException {
        IOException boom = new IOException("corrupt gzip");
        InputStream failing = new InputStream() {
            private int left = 1000;

            @Override
            public int read() throws IOException {
                if (left-- <= 0) {
                    throw boom;
                }
                return 'x';
            }
        };
        try (ReadAhead in = new ReadAhead(failing)) {
            assertThatThrownBy(in::readAllBytes).isInstanceOf(IOException.class).hasMessage("corrupt gzip")
                    .hasCause(boom);
        }
    }

    @Test
    void closeStopsTheThreadAndClosesTheSourceBeforeTheEnd() throws Exception {
        AtomicBoolean sourceClosed = new AtomicBoolean();
        InputStream endless = new InputStream() {
            @Override
            public int read() {
                return 0;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                return len;
            }

            @Override
            public void close() {
                sourceClosed.set(true);
            }
        };
        ReadAhead in = new ReadAhead(endless);
        assertThat(in.readNBytes(1000)).hasSize(1000);

        in.close();

        assertThat(sourceClosed).as("the source is closed once close returns").isTrue();
        assertThat(Thread.getAllStackTraces().keySet()).noneMatch(t -> t.getName().startsWith("layer-read-ahead")
                && t.isAlive());
    }
}
