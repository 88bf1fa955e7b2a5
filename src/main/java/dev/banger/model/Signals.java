package dev.banger.model;

import java.util.Locale;
import java.util.Map;

/** Linux signal names and numbers, for commands that take or show a signal. */
public final class Signals {

    private static final Map<String, Integer> BY_NAME = Map.ofEntries(Map.entry("HUP", 1), Map.entry("INT", 2),
            Map.entry("QUIT", 3), Map.entry("ILL", 4), Map.entry("TRAP", 5), Map.entry("ABRT", 6),
            Map.entry("BUS", 7), Map.entry("FPE", 8), Map.entry("KILL", 9), Map.entry("USR1", 10),
            Map.entry("SEGV", 11), Map.entry("USR2", 12), Map.entry("PIPE", 13), Map.entry("ALRM", 14),
            Map.entry("TERM", 15), Map.entry("CHLD", 17), Map.entry("CONT", 18), Map.entry("STOP", 19),
            Map.entry("TSTP", 20), Map.entry("TTIN", 21), Map.entry("TTOU", 22), Map.entry("WINCH", 28));

    private Signals() {
    }

    /**
     * A signal number from a name ("TERM", "SIGTERM", "term") or a number (1-64).
     *
     * @throws IllegalArgumentException naming what is accepted
     */
    public static int parse(String signal) {
        String s = signal.trim().toUpperCase(Locale.ROOT);
        if (s.matches("\\d{1,2}")) {
            int n = Integer.parseInt(s);
            if (n >= 1 && n <= 64) {
                return n;
            }
        }
        Integer n = BY_NAME.get(s.startsWith("SIG") ? s.substring(3) : s);
        if (n == null) {
            throw new IllegalArgumentException("unknown signal '" + signal + "': use a number from 1 to 64 or a name "
                    + "such as TERM, KILL, INT or HUP");
        }
        return n;
    }

    /** "SIGTERM" for 15; "signal 40" for numbers without a name. */
    public static String name(int signal) {
        return BY_NAME.entrySet().stream().filter(e -> e.getValue() == signal).map(e -> "SIG" + e.getKey())
                .findFirst().orElse("signal " + signal);
    }
}
