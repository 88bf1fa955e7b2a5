package dev.banger.vm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.banger.guest.ClockReading;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.Deque;
import org.junit.jupiter.api.Test;

/** GuestClockSync against a simulated guest whose answers take chosen times each way. */
class GuestClockSyncTest {

    private static final Duration TOLERANCE = Duration.ofMillis(50);

    /** Real time (the host's clock), and a guest whose clock is off it by {@code offset}. */
    private static final class SimulatedGuest extends Clock implements GuestClockSync.Exchange {
        Instant now = Instant.parse("2026-12-02T12:00:00Z");
        Duration offset;
        final boolean canStep;
        /** Per round: how long the request takes to be read, and the answer to come back. */
        final Deque<Duration[]> delays = new ArrayDeque<>();
        int rounds;

        SimulatedGuest(Duration offset, boolean canStep) {
            this.offset = offset;
            this.canStep = canStep;
        }

        SimulatedGuest delays(long forwardMs, long backMs) {
            delays.add(new Duration[] {Duration.ofMillis(forwardMs), Duration.ofMillis(backMs)});
            return this;
        }

        @Override
        public ClockReading adjust(Duration delta) {
            rounds++;
            Duration[] d = delays.isEmpty() ? new Duration[] {Duration.ofMillis(5), Duration.ofMillis(5)}
                    : delays.pop();
            now = now.plus(d[0]);
            boolean step = canStep && !delta.isZero();
            if (step) {
                offset = offset.plus(delta);
            }
            ClockReading reading = new ClockReading(now.plus(offset), step);
            now = now.plus(d[1]);
            return reading;
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }
    }

    @Test
    void aGuestSecondsBehindIsBroughtWithinTheToleranceInTwoRounds() throws Exception {
        SimulatedGuest guest = new SimulatedGuest(Duration.ofMillis(-2700), true);

        GuestClockSync.Outcome out = GuestClockSync.run(guest, guest, TOLERANCE);

        assertThat(out.rounds()).isEqualTo(2);
        assertThat(out.stepped()).isEqualTo(Duration.ofMillis(2700));
        assertThat(guest.offset.abs()).isLessThanOrEqualTo(TOLERANCE);
        assertThat(out.within(Duration.ofMillis(60))).isTrue();
    }

    @Test
    void aGuestSlowToReadTheRequestIsNotLeftBehindByTheDelay() throws Exception {
        // A loaded guest reads the first request 1.6 s late: a one-way "as of sending" set would leave it 1.6 s
        // behind. The slow round measures loosely (+/- 0.8 s), so the next, quick ones decide.
        SimulatedGuest guest = new SimulatedGuest(Duration.ofSeconds(-30), true).delays(1600, 0).delays(10, 10);

        GuestClockSync.Outcome out = GuestClockSync.run(guest, guest, TOLERANCE);

        assertThat(guest.offset.abs()).as("the guest's real offset").isLessThanOrEqualTo(TOLERANCE);
        assertThat(out.uncertainty()).isLessThanOrEqualTo(GuestClockSync.MAX_UNCERTAINTY);
        assertThat(out.rounds()).isEqualTo(3);
    }

    @Test
    void aGuestAlreadyInStepTakesOneRoundAndNoStep() throws Exception {
        SimulatedGuest guest = new SimulatedGuest(Duration.ofMillis(20), true);

        GuestClockSync.Outcome out = GuestClockSync.run(guest, guest, TOLERANCE);

        assertThat(out.rounds()).isEqualTo(1);
        assertThat(out.stepped()).isZero();
        assertThat(out.offset()).isEqualTo(Duration.ofMillis(20));
    }

    @Test
    void anAgentThatDoesNotStepEndsAfterItsFirstRefusal() throws Exception {
        SimulatedGuest guest = new SimulatedGuest(Duration.ofHours(1), false);

        GuestClockSync.Outcome out = GuestClockSync.run(guest, guest, TOLERANCE);

        assertThat(out.rounds()).isEqualTo(2);
        assertThat(out.stepped()).isZero();
        assertThat(out.within(Duration.ofSeconds(2))).isFalse();
    }

    @Test
    void aGuestThatNeverAnswersQuicklyEndsAfterTheLastRoundWithItsBound() throws Exception {
        SimulatedGuest guest = new SimulatedGuest(Duration.ofSeconds(-5), true);
        for (int i = 0; i < GuestClockSync.MAX_ROUNDS; i++) {
            guest.delays(700, 700);
        }

        GuestClockSync.Outcome out = GuestClockSync.run(guest, guest, TOLERANCE);

        assertThat(out.rounds()).isEqualTo(GuestClockSync.MAX_ROUNDS);
        assertThat(out.uncertainty()).isEqualTo(Duration.ofMillis(700));
        assertThat(guest.offset.abs()).as("symmetric delays: the midpoint is right").isLessThanOrEqualTo(TOLERANCE);
    }
}
