package dev.banger.cli;

import dev.banger.api.Event;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Shows a long operation's progress events on stderr. Steps print a line each. Steps that count bytes get a bar
 * each (several at once: a pull fetches layers in parallel), redrawn in place when stderr is a terminal; without a
 * terminal only their "done" lines print, so logs stay readable.
 */
final class ProgressPrinter implements Consumer<Event> {

    private final PrintWriter err;
    private final boolean terminal;
    /** Bars on screen, oldest first; their lines are the last {@code bars.size()} lines printed. */
    private final Map<String, String> bars = new LinkedHashMap<>();
    private int onScreen;

    ProgressPrinter(PrintWriter err) {
        this(err, System.console() != null);
    }

    ProgressPrinter(PrintWriter err, boolean terminal) {
        this.err = err;
        this.terminal = terminal;
    }

    @Override
    public synchronized void accept(Event event) {
        if (!(event instanceof Event.Progress p)) {
            return;
        }
        boolean counting = p.total() > 0 && p.current() >= 0 && "running".equals(p.status());
        if (counting) {
            if (terminal) {
                bars.put(p.stage(), bar(p));
                redraw();
            }
            return;
        }
        String line = p.detail() == null ? p.stage() : p.detail();
        if ("done".equals(p.status()) && p.elapsedMs() > 0 && p.total() <= 0) {
            line += String.format(Locale.ROOT, " (%.1fs)", p.elapsedMs() / 1000.0);
        }
        clearBars();
        bars.remove(p.stage());
        err.println(line);
        redraw();
    }

    /** Clears bars left on screen; call before printing anything else. */
    synchronized void finish() {
        clearBars();
        bars.clear();
        err.flush();
    }

    private void clearBars() {
        if (onScreen > 0) {
            err.print("\033[" + onScreen + "A\033[J");
            onScreen = 0;
        }
    }

    private void redraw() {
        if (!terminal) {
            return;
        }
        clearBars();
        for (String bar : bars.values()) {
            err.println(bar);
        }
        onScreen = bars.size();
        err.flush();
    }

    static String bar(Event.Progress p) {
        int width = 24;
        double fraction = Math.min(1.0, (double) p.current() / p.total());
        int filled = (int) (fraction * width);
        double seconds = Math.max(0.001, p.elapsedMs() / 1000.0);
        return String.format(Locale.ROOT, "%-11s [%s%s] %5.1f%% %9s/%-9s %9s/s", p.stage(), "#".repeat(filled),
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
