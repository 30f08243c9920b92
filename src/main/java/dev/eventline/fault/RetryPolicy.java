package dev.eventline.fault;

import java.time.Duration;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;
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

    /**
     * The one rule of both triggers (queue and HTTP): a failure is not retried when it, or an exception in its
     * cause chain, is a {@link NonRetryableException} or an instance of a class named in {@code retry.nonRetryable}
     * (that class or a subclass). The chain counts because frameworks and handlers wrap: a refusal rethrown
     * inside another exception is still a refusal.
     */
    public boolean nonRetryable(Throwable failure) {
        Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Throwable t = failure; t != null && seen.add(t); t = t.getCause()) {
            if (t instanceof NonRetryableException) {
                return true;
            }
            for (Class<?> c = t.getClass(); c != null; c = c.getSuperclass()) {
                if (retry.nonRetryable().contains(c.getName())) {
                    return true;
                }
            }
        }
        return false;
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
