package dev.banger.cli;

import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * The commands a mistyped one probably meant: names within a small edit distance (a letter missing, extra, wrong
 * or two swapped) or that start with what was typed, closest first. picocli's own suggestions rank by shared
 * letter pairs, which puts {@code list} before {@code stop} for {@code stp}.
 */
final class Suggestions {

    private Suggestions() {
    }

    /** Up to three of {@code names} close to {@code typed}, closest first; empty when none is close. */
    static List<String> closeTo(String typed, List<String> names) {
        String t = typed.toLowerCase(Locale.ROOT);
        int limit = t.length() <= 3 ? 1 : 2;
        return names.stream()
                .filter(n -> n.startsWith(t) || distance(t, n) <= limit)
                .sorted(Comparator.comparingInt((String n) -> n.startsWith(t) ? 0 : distance(t, n))
                        .thenComparing(Comparator.naturalOrder()))
                .distinct().limit(3).toList();
    }

    /** Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps cost one. */
    static int distance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }
}
