package dev.banger.guest;

/**
 * What a {@code clock.set} found and did.
 *
 * @param offsetMs how far the guest's clock was from the host's time as sent (positive: the guest was ahead)
 * @param stepped whether the agent set its clock (it does when the offset exceeds the tolerance and it is PID 1)
 */
public record ClockStep(long offsetMs, boolean stepped) {
}
