package dev.banger.vm;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The end of a VM's serial console log: what a VM's last error quotes, and whether its guest shut down. */
final class ConsoleTail {

    /** How much of the log's end is read: enough for a few lines, bounded whatever the log's size. */
    static final int TAIL_BYTES = 8 * 1024;
    /** How many of the last lines an error message quotes. */
    static final int QUOTED_LINES = 3;

    /** Lines banger-init and the kernel print last when the guest shuts itself down cleanly. */
    private static final List<String> SHUTDOWN_LINES = List.of("banger-init: power off", "banger-init: reboot",
            "reboot: Power down", "reboot: Restarting system");

    private ConsoleTail() {
    }

    /** The last {@code n} non-blank lines of {@code log}, oldest first, stripped; empty when it cannot be read. */
    static List<String> lastLines(Path log, int n) {
        byte[] tail;
        try (RandomAccessFile f = new RandomAccessFile(log.toFile(), "r")) {
            long start = Math.max(0, f.length() - TAIL_BYTES);
            tail = new byte[(int) (f.length() - start)];
            f.seek(start);
            f.readFully(tail);
        } catch (IOException e) {
            return List.of();
        }
        String[] lines = new String(tail, StandardCharsets.UTF_8).split("\r?\n");
        List<String> last = new ArrayList<>();
        for (int i = lines.length - 1; i >= 0 && last.size() < n; i--) {
            String line = lines[i].replaceAll("\\p{Cntrl}", "").strip();
            if (!line.isEmpty()) {
                last.add(0, line);
            }
        }
        return last;
    }

    /**
     * "; the serial console's last lines: a | b | c" for an error message, or "" when there are none: the lines that
     * usually say why a guest stopped or did not come up, kept in the message since the log goes with its VM (with
     * {@code vm run --rm}, before anyone reads it).
     */
    static String quoted(List<String> lastLines) {
        return lastLines.isEmpty() ? "" : "; the serial console's last lines: " + String.join(" | ", lastLines);
    }

    /** {@link #quoted} of the last {@link #QUOTED_LINES} lines of {@code log}. */
    static String quoted(Path log) {
        return quoted(lastLines(log, QUOTED_LINES));
    }

    /** Whether these last lines show the guest shutting itself down (poweroff or reboot), not a crash. */
    static boolean showsGuestShutdown(List<String> lastLines) {
        return lastLines.stream().anyMatch(l -> SHUTDOWN_LINES.stream().anyMatch(l::contains));
    }
}
