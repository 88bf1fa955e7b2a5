package dev.banger.image.layer;

import com.github.luben.zstd.ZstdInputStream;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.zip.GZIPInputStream;

/**
 * Opens a layer blob as a tar stream. The compression is read from the content's magic number rather than the
 * media type, because docker-archives carry no media types and registries mislabel; gzip, zstd and uncompressed
 * tars are accepted.
 */
final class Decompression {

    private static final int BUFFER = 128 * 1024;

    private Decompression() {
    }

    enum Kind { GZIP, ZSTD, TAR }

    static Kind sniff(byte[] head, int length) {
        if (length >= 2 && (head[0] & 0xff) == 0x1f && (head[1] & 0xff) == 0x8b) {
            return Kind.GZIP;
        }
        if (length >= 4 && (head[0] & 0xff) == 0x28 && (head[1] & 0xff) == 0xb5 && (head[2] & 0xff) == 0x2f
                && (head[3] & 0xff) == 0xfd) {
            return Kind.ZSTD;
        }
        return Kind.TAR;
    }

    /** Wraps {@code raw} (which the returned stream closes) in the right decompressor. */
    static InputStream open(InputStream raw) throws IOException {
        BufferedInputStream in = new BufferedInputStream(raw, BUFFER);
        in.mark(4);
        byte[] head = new byte[4];
        int n = in.readNBytes(head, 0, 4);
        in.reset();
        return switch (sniff(head, n)) {
            case GZIP -> new BufferedInputStream(new GZIPInputStream(in, BUFFER), BUFFER);
            case ZSTD -> new BufferedInputStream(new ZstdInputStream(in), BUFFER);
            case TAR -> in;
        };
    }
}
