package dev.banger.guest;

import java.time.Instant;
import java.util.Objects;

/**
 * What a {@code clock.adjust} answered.
 *
 * @param guestTime the guest's wall clock, read after the step, just before the agent answered
 * @param stepped whether the agent stepped its clock (it does for a non-zero step when it is PID 1)
 */
public record ClockReading(Instant guestTime, boolean stepped) {
    public ClockReading {
        Objects.requireNonNull(guestTime, "guestTime");
    }
}
