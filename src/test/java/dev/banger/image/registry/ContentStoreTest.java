package dev.banger.image.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ContentStoreTest {

    @TempDir
    Path tmp;

    @Test
    void ingest_publishesVerifiedBlob_andSecondIngestOpensNothing() throws IOException {
        ContentStore store = new ContentStore(tmp);
        byte[] content = random(300_000, 1);
        Descriptor d = new Descriptor(null, Digest.sha256(content), content.length);
        AtomicInteger opens = new AtomicInteger();

        ContentStore.Ingested first = store.ingest(d, () -> {
            opens.incrementAndGet();
            return new ByteArrayInputStream(content);
        }, BlobListener.NONE, "blob");
        ContentStore.Ingested second = store.ingest(d, () -> {
            opens.incrementAndGet();
            return new ByteArrayInputStream(content);
        }, BlobListener.NONE, "blob");

        assertThat(first.cached()).isFalse();
        assertThat(first.bytesFetched()).isEqualTo(content.length);
        assertThat(second.cached()).isTrue();
        assertThat(opens).hasValue(1);
        assertThat(Files.readAllBytes(store.blobPath(d.digest()))).isEqualTo(content);
    }

    @Test
    void ingest_digestMismatch_publishesNothing() throws IOException {
        ContentStore store = new ContentStore(tmp);
        byte[] content = random(1000, 2);
        Descriptor d = new Descriptor(null, Digest.sha256(random(1000, 3)), content.length);

        assertThatThrownBy(() -> store.ingest(d, () -> new ByteArrayInputStream(content), BlobListener.NONE,
                "layer 1/1")).isInstanceOf(UnexpectedBlobDigestException.class)
                .hasMessageContaining("layer 1/1").hasMessageContaining(d.digest().toString());

        assertThat(store.has(d)).isFalse();
        assertThat(tmp.resolve("ingest")).isEmptyDirectory();
    }

    @Test
    void ingest_endlessStream_isAbandonedJustPastThePromisedSize() {
        ContentStore store = new ContentStore(tmp);
        Descriptor d = new Descriptor(null, Digest.sha256(new byte[10]), 1 << 20);
        AtomicLong served = new AtomicLong();
        InputStream endless = new InputStream() {
            @Override
            public int read() {
                served.incrementAndGet();
                return 0;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                served.addAndGet(len);
                return len;
            }
        };

        assertThatThrownBy(() -> store.ingest(d, () -> endless, BlobListener.NONE, "blob"))
                .isInstanceOf(UnexpectedBlobSizeException.class).hasMessageContaining("at least");

        assertThat(served.get()).isLessThanOrEqualTo((1 << 20) + 1);
        assertThat(tmp.resolve("ingest")).isEmptyDirectory();
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }
}
