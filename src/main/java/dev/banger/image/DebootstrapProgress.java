package dev.banger.image;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns debootstrap's output into progress lines while it runs: its stages as they start ("I: Unpacking the base
 * system...") and the packages it retrieves, unpacks and configures ("I: Retrieving libc6 2.36-9",
 * "I: Configuring gcc-12:amd64..."). Package lines are gathered and given at most once per interval per phase,
 * with a running count, because a build-essential image has some 200 packages and three phases of them.
 */
final class DebootstrapProgress implements Consumer<String> {

    /**
     * A package line: "Retrieving NAME VERSION" or "Unpacking NAME[:ARCH]..."; stage lines ("Unpacking required
     * packages...") have a second word that is neither a version nor the dots.
     */
    private static final Pattern PACKAGE = Pattern.compile("^I: (Retrieving|Extracting|Unpacking|Configuring) "
            + "([a-z0-9][a-z0-9+.-]*?)(?::[a-z0-9]+)?(?: [0-9][^ ]*|\\.\\.\\.)\\s*$");
    private static final Pattern VALIDATING = Pattern.compile("^I: Validating \\S+.*$");
    static final long INTERVAL_NANOS = 2_000_000_000L;
    private static final int MAX_NAMES_SHOWN = 8;

    private final Consumer<String> progress;
    private final LongSupplier nanoTime;
    private String phase;
    private final List<String> pending = new ArrayList<>();
    private int count;
    private long lastEmit;

    DebootstrapProgress(Consumer<String> progress, LongSupplier nanoTime) {
        this.progress = progress;
        this.nanoTime = nanoTime;
        this.lastEmit = nanoTime.getAsLong();
    }

    @Override
    public synchronized void accept(String line) {
        if (line.isBlank() || VALIDATING.matcher(line).matches()) {
            return;
        }
        Matcher m = PACKAGE.matcher(line);
        if (m.matches()) {
            String verb = m.group(1).toLowerCase(Locale.ROOT);
            if (!verb.equals(phase)) {
                flush();
                phase = verb;
                count = 0;
            }
            pending.add(m.group(2));
            count++;
            if (nanoTime.getAsLong() - lastEmit >= INTERVAL_NANOS) {
                flush();
            }
            return;
        }
        flush();
        phase = null;
        progress.accept("debootstrap: " + (line.startsWith("I: ") ? line.substring(3) : line).strip());
    }

    /** Gives the packages gathered since the last line; call once debootstrap has ended. */
    synchronized void flush() {
        if (pending.isEmpty()) {
            return;
        }
        StringBuilder names = new StringBuilder();
        for (int i = 0; i < pending.size() && i < MAX_NAMES_SHOWN; i++) {
            names.append(i == 0 ? "" : " ").append(pending.get(i));
        }
        if (pending.size() > MAX_NAMES_SHOWN) {
            names.append(" +").append(pending.size() - MAX_NAMES_SHOWN).append(" more");
        }
        progress.accept("debootstrap: " + phase + " packages (" + count + " so far): " + names);
        pending.clear();
        lastEmit = nanoTime.getAsLong();
    }
}
