package dev.eventline.fault;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

import dev.eventline.config.FunctionDescription;

/**
 * Exponential backoff with full jitter: the wait before attempt {@code n + 1} is uniform in
 * [d/2, d] where d = min(maxDelay, initialDelay * multiplier^(n-1)). Jitter keeps many failing partitions
 * from retrying in lock-step against a recovering dependency.
 */
public record RetryPolicy(int maxAttempts, Duration initialDelay, double multiplier, Duration maxDelay) {

    public static RetryPolicy of(FunctionDescription fn) {
        FunctionDescription.Retry r = fn.retry();
        return new RetryPolicy(r.maxAttempts(), r.initialDelay(), r.multiplier(), r.maxDelay());
    }

    /** @param failedAttempts attempts made so far, 1 or more */
    public boolean exhausted(int failedAttempts) {
        return failedAttempts >= maxAttempts;
    }

    /** @param failedAttempts attempts made so far, 1 or more */
    public Duration delayAfter(int failedAttempts) {
        double base = initialDelay.toMillis() * Math.pow(multiplier, Math.max(0, failedAttempts - 1));
        long capped = (long) Math.min(maxDelay.toMillis(), base);
        long jittered = capped / 2 + ThreadLocalRandom.current().nextLong(capped / 2 + 1);
        return Duration.ofMillis(jittered);
    }
}
