package dev.banger.kernel;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;

/**
 * Decodes the LZ4 "legacy" frame format, the one {@code lz4 -l} writes and Linux uses for lz4-compressed kernels
 * (Debian's cloud kernels among them): the magic 0x184C2102, then blocks, each a 4-byte little-endian compressed
 * size and an LZ4 block that decodes on its own to at most 8 MiB. A repeated magic starts a new frame. Written
 * here because it is small and no LZ4 library is among banger's dependencies.
 */
final class Lz4LegacyInputStream extends InputStream {

    static final int MAGIC = 0x184C2102;
    private static final int MAX_BLOCK = 8 << 20;

    private final InputStream in;
    private final byte[] block = new byte[MAX_BLOCK];
    private final byte[] compressed = new byte[MAX_BLOCK + MAX_BLOCK / 255 + 16];
    private int available;
    private int position;
    private boolean eof;

    Lz4LegacyInputStream(InputStream in) throws IOException {
        this.in = in;
        int magic = readIntLe(false);
        if (magic != MAGIC) {
            throw new IOException("not an lz4 legacy stream (magic " + Integer.toHexString(magic) + ")");
        }
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) == 1 ? one[0] & 0xff : -1;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        while (position == available) {
            if (eof || !nextBlock()) {
                return -1;
            }
        }
        int n = Math.min(len, available - position);
        System.arraycopy(block, position, b, off, n);
        position += n;
        return n;
    }

    private boolean nextBlock() throws IOException {
        int size = readIntLe(true);
        while (size == MAGIC) {
            size = readIntLe(true);
        }
        if (eof) {
            return false;
        }
        if (size <= 0 || size > compressed.length) {
            throw new IOException("lz4 block of " + (size & 0xffffffffL) + " bytes is not possible");
        }
        if (in.readNBytes(compressed, 0, size) != size) {
            throw new EOFException("lz4 stream ends inside a block");
        }
        available = decodeBlock(compressed, size, block);
        position = 0;
        return true;
    }

    /** Decodes one LZ4 block; every offset and length is checked against both buffers. */
    static int decodeBlock(byte[] src, int srcLen, byte[] dst) throws IOException {
        int s = 0;
        int d = 0;
        while (s < srcLen) {
            int token = src[s++] & 0xff;
            int literals = token >>> 4;
            if (literals == 15) {
                int b;
                do {
                    if (s >= srcLen) {
                        throw new IOException("lz4 block ends inside a literal length");
                    }
                    b = src[s++] & 0xff;
                    literals += b;
                } while (b == 255);
            }
            if (literals > srcLen - s || literals > dst.length - d) {
                throw new IOException("lz4 literal run of " + literals + " bytes overflows the block");
            }
            System.arraycopy(src, s, dst, d, literals);
            s += literals;
            d += literals;
            if (s == srcLen) {
                break; // the last sequence has literals only
            }
            if (s + 2 > srcLen) {
                throw new IOException("lz4 block ends inside a match offset");
            }
            int offset = (src[s] & 0xff) | (src[s + 1] & 0xff) << 8;
            s += 2;
            if (offset == 0 || offset > d) {
                throw new IOException("lz4 match offset " + offset + " points before the block");
            }
            int match = token & 15;
            if (match == 15) {
                int b;
                do {
                    if (s >= srcLen) {
                        throw new IOException("lz4 block ends inside a match length");
                    }
                    b = src[s++] & 0xff;
                    match += b;
                } while (b == 255);
            }
            match += 4;
            if (match > dst.length - d) {
                throw new IOException("lz4 match of " + match + " bytes overflows the block");
            }
            // Byte by byte: a match may overlap the bytes it is producing (offset < length repeats a pattern).
            for (int i = 0; i < match; i++) {
                dst[d + i] = dst[d - offset + i];
            }
            d += match;
        }
        return d;
    }

    /** Reads a little-endian int; at a clean end of input sets eof (when allowed) and returns 0. */
    private int readIntLe(boolean endAllowed) throws IOException {
        byte[] b = in.readNBytes(4);
        if (b.length == 0 && endAllowed) {
            eof = true;
            return 0;
        }
        if (b.length != 4) {
            throw new EOFException("lz4 stream ends inside a block header");
        }
        return (b[0] & 0xff) | (b[1] & 0xff) << 8 | (b[2] & 0xff) << 16 | (b[3] & 0xff) << 24;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
