package dev.banger.image.registry;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Blobs by digest ({@code ROOT/blobs/ALGORITHM/HEX}), shared by all pulls, so a layer two images share is fetched
 * once. A blob is published only after its size and digest were checked while it streamed in: it is written to
 * {@code ROOT/ingest/}, forced to disk and then renamed into place, so a reader never sees a partial or
 * unverified blob and a failure leaves nothing under {@code blobs/}. Two pulls wanting the same missing blob in
 * one JVM take turns: the second finds it published. Published blobs are never modified.
 */
public final class ContentStore {

    private static final int BUFFER = 256 * 1024;
    private static final long PROGRESS_STEP = 1024 * 1024;
    private static final Duration STALE_INGEST = Duration.ofHours(1);
    private static final ConcurrentHashMap<Path, ReentrantLock> INGEST_LOCKS = new ConcurrentHashMap<>();

    private final Path root;
    private final Path blobs;
    private final Path ingest;

    /** Opens (creating if needed) the store at {@code root}, removing ingest files left by a crash long ago. */
    public ContentStore(Path root) {
        this.root = root.toAbsolutePath();
        this.blobs = this.root.resolve("blobs");
        this.ingest = this.root.resolve("ingest");
        try {
            Files.createDirectories(blobs);
            Files.createDirectories(ingest);
            removeStaleIngests();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the image content store at " + this.root, e);
        }
    }

    public Path root() {
        return root;
    }

    /** Where the blob lives once published (it may not exist). */
    public Path blobPath(Digest digest) {
        return blobs.resolve(digest.algorithm()).resolve(digest.hex());
    }

    /** True when the blob is published with the descriptor's size. */
    public boolean has(Descriptor descriptor) {
        Path path = blobPath(descriptor.digest());
        try {
            BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            return a.isRegularFile() && a.size() == descriptor.size();
        } catch (IOException e) {
            return false;
        }
    }

    /** How a blob came to be in the store. */
    public record Ingested(Path path, boolean cached, long bytesFetched) {
    }

    /**
     * Makes the blob available, fetching it through {@code opener} unless it is already published.
     * {@code listener} hears only bytes actually fetched: nothing when the blob was already there.
     *
     * @param what names the blob in errors ("layer 2/3 of docker.io/library/debian:latest")
     * @throws UnexpectedBlobDigestException or {@link UnexpectedBlobSizeException} when the content is not what
     *     the descriptor says (the stream is abandoned as soon as it is longer than promised)
     * @throws IOException when reading the source or writing the store fails; nothing is published then either
     */
    public Ingested ingest(Descriptor descriptor, BlobOpener opener, BlobListener listener, String what)
            throws IOException {
        Path target = blobPath(descriptor.digest());
        if (has(descriptor)) {
            return new Ingested(target, true, 0);
        }
        ReentrantLock lock = INGEST_LOCKS.computeIfAbsent(target, p -> new ReentrantLock());
        lock.lock();
        try {
            if (has(descriptor)) {
                return new Ingested(target, true, 0);
            }
            Path tmp = Files.createTempFile(ingest, descriptor.digest().hex() + "-", ".partial");
            try {
                long fetched;
                try (InputStream in = opener.open();
                     FileChannel out = FileChannel.open(tmp, StandardOpenOption.WRITE,
                             StandardOpenOption.TRUNCATE_EXISTING)) {
                    fetched = copyVerified(in, out, descriptor, listener, what);
                    out.force(false);
                }
                Files.createDirectories(target.getParent());
                try {
                    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
                } catch (AtomicMoveNotSupportedException e) {
                    throw new IOException("cannot publish " + target + " atomically", e);
                }
                return new Ingested(target, false, fetched);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Copies {@code in} to {@code out}, hashing as it goes, and checks size and digest. Reads at most one byte past
     * the promised size, so an endless stream cannot fill the disk.
     */
    static long copyVerified(InputStream in, FileChannel out, Descriptor expected, BlobListener listener,
                             String what) throws IOException {
        MessageDigest hasher = expected.digest().newHasher();
        byte[] buf = new byte[BUFFER];
        long total = 0;
        long reported = 0;
        long limit = expected.size();
        while (true) {
            if (Thread.currentThread().isInterrupted()) {
                throw new InterruptedIOException("fetch of " + what + " was cancelled");
            }
            int want = (int) Math.min(buf.length, limit - total + 1);
            int n = in.read(buf, 0, want);
            if (n < 0) {
                break;
            }
            total += n;
            if (total > limit) {
                throw new UnexpectedBlobSizeException(what, limit, total, true);
            }
            hasher.update(buf, 0, n);
            ByteBuffer bb = ByteBuffer.wrap(buf, 0, n);
            while (bb.hasRemaining()) {
                out.write(bb);
            }
            if (total - reported >= PROGRESS_STEP) {
                listener.progress(total, limit);
                reported = total;
            }
        }
        if (total != limit) {
            throw new UnexpectedBlobSizeException(what, limit, total, false);
        }
        Digest actual = Digest.of(expected.digest().algorithm(), hasher);
        if (!actual.equals(expected.digest())) {
            throw new UnexpectedBlobDigestException(what, expected.digest(), actual);
        }
        listener.progress(total, limit);
        return total;
    }

    private void removeStaleIngests() throws IOException {
        Instant cutoff = Instant.now().minus(STALE_INGEST);
        try (DirectoryStream<Path> files = Files.newDirectoryStream(ingest, "*.partial")) {
            for (Path f : files) {
                try {
                    if (Files.getLastModifiedTime(f, LinkOption.NOFOLLOW_LINKS).toInstant().isBefore(cutoff)) {
                        Files.deleteIfExists(f);
                    }
                } catch (IOException ignored) {
                    // another process removed it
                }
            }
        }
    }
}
