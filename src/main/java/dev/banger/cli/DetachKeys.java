package dev.banger.cli;

import java.io.ByteArrayOutputStream;

/**
 * The detach sequence of {@code session attach} on a terminal: Ctrl-] then d. Ctrl-] twice sends one Ctrl-];
 * Ctrl-] followed by anything else sends both. The state carries across reads (the two keys may arrive apart).
 */
final class DetachKeys {

    static final byte PREFIX = 0x1d; // Ctrl-]
    static final byte DETACH = 'd';

    /** What to forward from one read, and whether the user asked to detach (nothing after that is forwarded). */
    record Filtered(byte[] forward, boolean detach) {
    }

    private boolean pending;

    Filtered filter(byte[] buf, int off, int len) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(len + 1);
        for (int i = off; i < off + len; i++) {
            byte b = buf[i];
            if (pending) {
                pending = false;
                if (b == DETACH) {
                    return new Filtered(out.toByteArray(), true);
                }
                out.write(PREFIX);
                if (b != PREFIX) {
                    out.write(b);
                }
            } else if (b == PREFIX) {
                pending = true;
            } else {
                out.write(b);
            }
        }
        return new Filtered(out.toByteArray(), false);
    }
}
