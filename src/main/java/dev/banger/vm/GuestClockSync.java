package dev.banger.vm;

import dev.banger.guest.ClockReading;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * Brings a guest's wall clock to the host's by timed round trips (docs/guest-boot.md, "The clock"). Each round asks
 * the guest to step by the offset the previous round measured ({@code clock.adjust}, relative, so how long the
 * request took to arrive does not matter) and to answer its clock after the step. The guest read that clock at some
 * instant between the host's readings before sending and after the answer, so the round measures the guest's offset
 * to within half its round trip. Rounds go on until one finds the guest within the tolerance with a round trip
 * short enough to trust, at most {@link #MAX_ROUNDS}.
 */
final class GuestClockSync {

    /** Rounds before giving up on a guest too slow to answer quickly (a loaded TCG host). */
    static final int MAX_ROUNDS = 4;
    /** A round whose half round trip is longer than this measures too loosely to end on. */
    static final Duration MAX_UNCERTAINTY = Duration.ofMillis(250);

    /** One round: steps the guest's clock by {@code delta} and reads it after. */
    @FunctionalInterface
    interface Exchange {
        ClockReading adjust(Duration delta) throws IOException;
    }

    /**
     * How the sync ended.
     *
     * @param offset the guest's clock minus the host's, as the last round measured it
     * @param uncertainty half the last round's round trip: the true offset is within this of {@code offset}
     * @param stepped the sum of the steps the guest made
     * @param rounds round trips made
     */
    record Outcome(Duration offset, Duration uncertainty, Duration stepped, int rounds) {
        /** True when the guest is known to be within {@code bound} of the host. */
        boolean within(Duration bound) {
            return offset.abs().plus(uncertainty).compareTo(bound) <= 0;
        }
    }

    private GuestClockSync() {
    }

    /**
     * Runs rounds until the guest is within {@code tolerance} as measured by a round trip of at most twice
     * {@link #MAX_UNCERTAINTY}, or the guest does not step (an agent that is not PID 1), or {@link #MAX_ROUNDS}.
     */
    static Outcome run(Exchange guest, Clock host, Duration tolerance) throws IOException {
        Duration delta = Duration.ZERO;
        Duration stepped = Duration.ZERO;
        for (int round = 1; ; round++) {
            Instant sent = host.instant();
            ClockReading reading = guest.adjust(delta);
            Instant answered = host.instant();
            if (reading.stepped()) {
                stepped = stepped.plus(delta);
            }
            Duration half = Duration.between(sent, answered).dividedBy(2);
            Duration offset = Duration.between(sent.plus(half), reading.guestTime());
            boolean close = offset.abs().compareTo(tolerance) <= 0;
            boolean cannotStep = !delta.isZero() && !reading.stepped();
            if ((close && half.compareTo(MAX_UNCERTAINTY) <= 0) || cannotStep || round == MAX_ROUNDS) {
                return new Outcome(offset, half, stepped, round);
            }
            delta = close ? Duration.ZERO : offset.negated();
        }
    }
}
