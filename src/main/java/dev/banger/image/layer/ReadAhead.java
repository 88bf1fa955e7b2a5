package dev.banger.image.layer;

import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Reads a stream on its own thread, up to {@code CHUNKS × CHUNK} bytes ahead of the reader: a layer's decompression
 * then runs beside the creation of its files, as GNU tar runs gzip in another process (inflation is about a third
 * of a flattening thread's time otherwise). An error of the source reaches the reader as an {@link IOException}
 * whose cause is the original, at the point of the stream where it happened. {@link #close()} stops the thread and
 * waits for it, so the source is no longer read once close returns; the thread closes the source.
 */
final class ReadAhead extends InputStream {

    private static final int CHUNK = 256 * 1024;
    private static final int CHUNKS = 8;
    private static final byte[] END = new byte[0];
    private static final AtomicInteger THREADS = new AtomicInteger();

    private final BlockingQueue<Object> chunks = new ArrayBlockingQueue<>(CHUNKS);
    private final Thread thread;
    private byte[] current = new byte[0];
    private int position;
    private boolean ended;
    private volatile boolean closed;

    ReadAhead(InputStream source) {
        thread = new Thread(() -> pump(source), "layer-read-ahead-" + THREADS.incrementAndGet());
        thread.setDaemon(true);
        thread.start();
    }

    private void pump(InputStream source) {
        try (source) {
            while (!closed) {
                byte[] chunk = source.readNBytes(CHUNK);
                if (chunk.length == 0) {
                    chunks.put(END);
                    return;
                }
                chunks.put(chunk);
            }
        } catch (InterruptedException e) {
            // closed by the reader
        } catch (Throwable e) {
            // Anything, Errors included: a reader left waiting for a chunk that never comes would hang the pull.
            try {
                chunks.put(e);
            } catch (InterruptedException closedMeanwhile) {
                // closed by the reader
            }
        }
    }

    private boolean fill() throws IOException {
        while (position >= current.length) {
            if (ended) {
                return false;
            }
            Object next;
            try {
                next = chunks.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted while reading a layer");
            }
            if (next == END) {
                ended = true;
                return false;
            }
            if (next instanceof Error e) {
                ended = true;
                throw e;
            }
            if (next instanceof Throwable e) {
                ended = true;
                throw new IOException(e.getMessage(), e);
            }
            current = (byte[]) next;
            position = 0;
        }
        return true;
    }

    @Override
    public int read() throws IOException {
        return fill() ? current[position++] & 0xff : -1;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        if (!fill()) {
            return -1;
        }
        int n = Math.min(len, current.length - position);
        System.arraycopy(current, position, b, off, n);
        position += n;
        return n;
    }

    @Override
    public int available() {
        return current.length - position;
    }

    /**
     * Stops the thread: emptying the queue wakes it if it waits for room, and it stops after the read it may be
     * in. It is interrupted only if that read does not end within 30 s (an interrupt closes a file channel the
     * caller may still own).
     */
    @Override
    public void close() {
        closed = true;
        chunks.clear();
        try {
            thread.join(TimeUnit.SECONDS.toMillis(30));
            if (thread.isAlive()) {
                thread.interrupt();
                thread.join(TimeUnit.SECONDS.toMillis(5));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
