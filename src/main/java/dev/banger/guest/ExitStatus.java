package dev.banger.guest;

import java.util.OptionalInt;

/**
 * How a guest process ended.
 *
 * @param exitCode its exit code; {@code 128 + signal} when a signal killed it, as a shell reports it
 * @param signal the signal that killed it, empty when it exited on its own
 */
public record ExitStatus(int exitCode, OptionalInt signal) {

    public ExitStatus {
        java.util.Objects.requireNonNull(signal, "signal");
    }

    public static ExitStatus exited(int exitCode) {
        return new ExitStatus(exitCode, OptionalInt.empty());
    }

    public static ExitStatus killed(int signal) {
        return new ExitStatus(128 + signal, OptionalInt.of(signal));
    }

    public boolean succeeded() {
        return exitCode == 0 && signal.isEmpty();
    }
}
