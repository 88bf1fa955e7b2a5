package dev.banger.daemon;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Passes at most {@code limit} bytes to its target, then one line saying the rest was dropped, then nothing. The
 * daemon's stdout and stderr go through one ({@code bangerd.out} is a plain file no one rotates; the daemon's
 * own log is {@code bangerd.log}, rolled by size).
 */
final class CappedOutputStream extends OutputStream {

    private final OutputStream target;
    private final long limit;
    private final String droppedNote;
    private long written;
    private boolean noted;

    CappedOutputStream(OutputStream target, long limit, String droppedNote) {
        this.target = target;
        this.limit = limit;
        this.droppedNote = droppedNote;
    }

    @Override
    public synchronized void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) throws IOException {
        long room = limit - written;
        if (room > 0) {
            int n = (int) Math.min(room, len);
            target.write(b, off, n);
            written += n;
            len -= n;
        }
        if (len > 0 && !noted) {
            noted = true;
            target.write(("\n" + droppedNote + "\n").getBytes(StandardCharsets.UTF_8));
            target.flush();
        }
    }

    @Override
    public synchronized void flush() throws IOException {
        target.flush();
    }

    @Override
    public void close() throws IOException {
        target.close();
    }
}
