package dev.banger.kernel;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.zip.GZIPInputStream;

/**
 * The build configuration a kernel carries when it was built with {@code CONFIG_IKCONFIG}: a gzipped
 * {@code .config} between the markers {@code IKCFG_ST} and {@code IKCFG_ED} in the uncompressed kernel (so in
 * the vmlinux, not in a bzImage's compressed payload).
 *
 * @param options {@code CONFIG_X} without the prefix → its value ({@code y}, {@code m}, a number or string);
 *     options that are "not set" are absent
 */
record EmbeddedKernelConfig(Map<String, String> options) {

    private static final byte[] START = "IKCFG_ST".getBytes(StandardCharsets.US_ASCII);
    /** Far above any real config (a few hundred KiB of text): a bigger stream is not a config. */
    private static final int MAX_CONFIG_BYTES = 16 << 20;

    EmbeddedKernelConfig {
        options = Map.copyOf(options);
    }

    /** Reads the embedded config of {@code vmlinux} (an ELF kernel); empty when it carries none. */
    static Optional<EmbeddedKernelConfig> of(Path vmlinux) {
        try (FileChannel ch = FileChannel.open(vmlinux, StandardOpenOption.READ)) {
            if (ch.size() > Integer.MAX_VALUE) {
                return Optional.empty();
            }
            MappedByteBuffer map = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size());
            int limit = map.limit();
            for (int i = 0; i + START.length + 2 <= limit; i++) {
                if (map.get(i) != START[0] || !startsAt(map, i)) {
                    continue;
                }
                int data = i + START.length;
                // The marker string also appears in code that looks for it; only a gzip stream follows the real one.
                if ((map.get(data) & 0xff) != 0x1f || (map.get(data + 1) & 0xff) != 0x8b) {
                    continue;
                }
                byte[] gz = new byte[Math.min(limit - data, MAX_CONFIG_BYTES)];
                map.get(data, gz);
                try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(gz))) {
                    return Optional.of(parse(new String(in.readNBytes(MAX_CONFIG_BYTES), StandardCharsets.UTF_8)));
                } catch (IOException e) {
                    continue;
                }
            }
            return Optional.empty();
        } catch (IOException e) {
            throw new KernelException("cannot read kernel image " + vmlinux + ": " + e.getMessage(), e);
        }
    }

    static EmbeddedKernelConfig parse(String text) {
        Map<String, String> options = new HashMap<>();
        for (String line : text.split("\n")) {
            if (line.startsWith("CONFIG_")) {
                int eq = line.indexOf('=');
                if (eq > 0) {
                    options.put(line.substring("CONFIG_".length(), eq), line.substring(eq + 1).strip());
                }
            }
        }
        return new EmbeddedKernelConfig(options);
    }

    boolean builtIn(String option) {
        return "y".equals(options.get(option));
    }

    private static boolean startsAt(MappedByteBuffer map, int at) {
        for (int j = 0; j < START.length; j++) {
            if (map.get(at + j) != START[j]) {
                return false;
            }
        }
        return true;
    }
}
