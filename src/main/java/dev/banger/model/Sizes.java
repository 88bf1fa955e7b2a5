package dev.banger.model;

import java.util.Locale;

/** Sizes as users type them: {@code 512M}, {@code 2G}, {@code 1.5G}, {@code 1024} (MiB when unitless). */
public final class Sizes {

    private Sizes() {
    }

    /**
     * Parses a size into MiB, rounding up.
     *
     * @param what the option, for the message ("--memory")
     * @throws IllegalArgumentException saying what a valid size looks like
     */
    public static long parseMib(String what, String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException(what + " needs a size such as 512M or 2G");
        }
        String t = text.trim().toUpperCase(Locale.ROOT);
        if (t.endsWith("IB")) {
            t = t.substring(0, t.length() - 2);
        } else if (t.endsWith("B") && t.length() > 1 && Character.isLetter(t.charAt(t.length() - 2))) {
            t = t.substring(0, t.length() - 1);
        }
        char unit = t.charAt(t.length() - 1);
        String number = Character.isLetter(unit) ? t.substring(0, t.length() - 1) : t;
        double value;
        try {
            value = Double.parseDouble(number);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(what + " " + text + " is not a size: use a number with an "
                    + "optional unit, such as 512M or 2G");
        }
        double factor = 1;
        if (Character.isLetter(unit)) {
            factor = switch (unit) {
                case 'K' -> 1.0 / 1024;
                case 'M' -> 1;
                case 'G' -> 1024;
                case 'T' -> 1024 * 1024;
                default -> throw new IllegalArgumentException(what + " " + text
                        + ": unknown unit '" + unit + "', use K, M, G or T");
            };
        }
        if (value <= 0 || Double.isNaN(value) || Double.isInfinite(value)) {
            throw new IllegalArgumentException(what + " " + text + " must be positive");
        }
        return (long) Math.ceil(value * factor);
    }

    /** Formats MiB for humans: 1024 → "1G", 1536 → "1.5G", 512 → "512M". */
    public static String formatMib(long mib) {
        if (mib >= 1024 && mib % 1024 == 0) {
            return (mib / 1024) + "G";
        }
        if (mib >= 1024) {
            return String.format(Locale.ROOT, "%.1fG", mib / 1024.0);
        }
        return mib + "M";
    }

    /**
     * Formats bytes for humans in binary units, as {@code ls -h} does: 2650800128 → "2.5G", 270532608 → "258M",
     * 4096 → "4.0K", 512 → "512B". Tables show this; {@code --json} keeps the bytes.
     */
    public static String formatBytes(long bytes) {
        if (bytes < 1024) {
            return bytes + "B";
        }
        String units = "KMGTPE";
        double value = bytes;
        int unit = -1;
        while (value >= 1024 && unit < units.length() - 1) {
            value /= 1024;
            unit++;
        }
        if (value >= 1023.95 && unit < units.length() - 1) {
            value /= 1024;
            unit++;
        }
        return value < 9.95 ? String.format(Locale.ROOT, "%.1f%c", value, units.charAt(unit))
                : String.format(Locale.ROOT, "%.0f%c", value, units.charAt(unit));
    }
}
