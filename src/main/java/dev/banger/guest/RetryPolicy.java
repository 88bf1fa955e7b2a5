package dev.banger.guest;

import java.time.Duration;
import java.util.Objects;

/**
 * How a transport retries while the guest is not listening yet (the shape of firecracker-go-sdk's vsock dialer).
 *
 * @param retryInterval pause between attempts
 * @param attemptTimeout how long one attempt may wait for the VMM's answer
 * @param overallTimeout how long to keep trying in all
 */
public record RetryPolicy(Duration retryInterval, Duration attemptTimeout, Duration overallTimeout) {

    public static final RetryPolicy DEFAULT =
            new RetryPolicy(Duration.ofMillis(100), Duration.ofSeconds(1), Duration.ofSeconds(20));

    public RetryPolicy {
        Objects.requireNonNull(retryInterval, "retryInterval");
        Objects.requireNonNull(attemptTimeout, "attemptTimeout");
        Objects.requireNonNull(overallTimeout, "overallTimeout");
        if (retryInterval.isNegative() || attemptTimeout.isNegative() || attemptTimeout.isZero()
                || overallTimeout.isNegative()) {
            throw new IllegalArgumentException("retry durations must be positive: " + retryInterval + ", "
                    + attemptTimeout + ", " + overallTimeout);
        }
    }
}
