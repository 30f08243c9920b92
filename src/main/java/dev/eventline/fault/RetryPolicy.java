package dev.eventline.fault;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

import dev.eventline.config.FunctionDescription;

/**
 * Exponential backoff with full jitter: the wait before attempt {@code n + 1} is uniform in
 * [d/2, d] where d = min(maxDelay, initialDelay * multiplier^(n-1)). Jitter keeps many failing partitions
 * from retrying in lock-step against a recovering dependency.
 */
public record RetryPolicy(FunctionDescription.Retry retry) {

    public static RetryPolicy of(FunctionDescription fn) {
        return new RetryPolicy(fn.retry());
    }

    public int maxAttempts() {
        return retry.maxAttempts();
    }

    /** @param failedAttempts attempts made so far, 1 or more */
    public boolean exhausted(int failedAttempts) {
        return failedAttempts >= retry.maxAttempts();
    }

    /** @param failedAttempts attempts made so far, 1 or more */
    public Duration delayAfter(int failedAttempts) {
        long capped = retry.delayAfter(failedAttempts).toMillis();
        long jittered = capped / 2 + ThreadLocalRandom.current().nextLong(capped / 2 + 1);
        return Duration.ofMillis(jittered);
    }
}
