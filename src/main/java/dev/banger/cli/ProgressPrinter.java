package dev.banger.cli;

import dev.banger.api.Event;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * Shows a long operation's progress events on stderr: one line per step, and for steps that count bytes a
 * bar redrawn in place when stderr is a terminal (a line per step otherwise, so logs stay readable).
 */
final class ProgressPrinter implements Consumer<Event> {

    private final PrintWriter err;
    private final boolean terminal;
    private String lastStage;
    private boolean barOpen;

    ProgressPrinter(PrintWriter err) {
        this(err, System.console() != null);
    }

    ProgressPrinter(PrintWriter err, boolean terminal) {
        this.err = err;
        this.terminal = terminal;
    }

    @Override
    public void accept(Event event) {
        if (!(event instanceof Event.Progress p)) {
            return;
        }
        if (p.total() > 0 && p.current() >= 0) {
            if (terminal) {
                err.print("\r" + bar(p));
                err.flush();
                barOpen = true;
                return;
            }
            if (p.stage().equals(lastStage)) {
                return;
            }
        }
        endBar();
        String line = p.detail() == null ? p.stage() : p.detail();
        if ("done".equals(p.status()) && p.elapsedMs() > 0) {
            line += String.format(Locale.ROOT, " (%.1fs)", p.elapsedMs() / 1000.0);
        }
        err.println(line);
        err.flush();
        lastStage = p.stage();
    }

    /** Ends a bar line left open; call before printing anything else. */
    void finish() {
        endBar();
    }

    private void endBar() {
        if (barOpen) {
            err.println();
            barOpen = false;
        }
    }

    static String bar(Event.Progress p) {
        int width = 30;
        double fraction = Math.min(1.0, (double) p.current() / p.total());
        int filled = (int) (fraction * width);
        double seconds = Math.max(0.001, p.elapsedMs() / 1000.0);
        return String.format(Locale.ROOT, "%-12s [%s%s] %5.1f%% %s/%s %s/s", p.stage(), "#".repeat(filled),
                ".".repeat(width - filled), fraction * 100, human(p.current()), human(p.total()),
                human((long) (p.current() / seconds)));
    }

    static String human(long bytes) {
        if (bytes < 1024) {
            return bytes + "B";
        }
        double value = bytes;
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        int unit = -1;
        while (value >= 1024 && unit < units.length - 1) {
            value /= 1024;
            unit++;
        }
        return String.format(Locale.ROOT, "%.1f%s", value, units[unit]);
    }
}
