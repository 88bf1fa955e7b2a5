package dev.banger.host.disk;

import java.util.Objects;

/**
 * Whether a strategy can run on a host for a VMM, and why: the reason is what the chooser reports when nothing
 * applies, so it names what is missing, and {@code fix} says what to do about it.
 *
 * @param applicable whether the strategy can run
 * @param reason one line: why it applies, or what is missing
 * @param fix what to do to make it applicable, or null when there is nothing to do (or nothing that helps)
 */
public record Applicability(boolean applicable, String reason, String fix) {

    public Applicability {
        Objects.requireNonNull(reason, "reason");
    }

    public static Applicability yes(String reason) {
        return new Applicability(true, reason, null);
    }

    public static Applicability no(String reason, String fix) {
        return new Applicability(false, reason, fix);
    }

    /** The reason with the fix, for messages: {@code "cp not found (fix: apt-get install coreutils)"}. */
    public String describe() {
        return fix == null ? reason : reason + " (fix: " + fix + ")";
    }
}
