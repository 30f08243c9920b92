package dev.eventline.client;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * How long to wait before sending again: the gate's {@code Retry-After} when it gave one (at least
 * {@code initial}, at most {@code maxRetryAfter}), else exponential backoff from {@code initial}, doubling per
 * attempt up to {@code max}, with "equal jitter" (a random wait between half the step and the step). The one
 * resend rule of the gate's contract (docs/gate.md): {@link EventlineClient} waits by it, and so may a producer
 * that talks to the gate itself.
 */
public final class Backoff {

    private final Duration initial;
    private final Duration max;
    private final Duration maxRetryAfter;

    /**
     * As {@link EventlineClient.Builder} takes them: {@code initial} positive, the bounds not negative.
     *
     * @throws IllegalArgumentException otherwise
     */
    public Backoff(Duration initial, Duration max, Duration maxRetryAfter) {
        if (initial == null || max == null || maxRetryAfter == null || initial.isNegative() || initial.isZero()
                || max.isNegative() || maxRetryAfter.isNegative()) {
            throw new IllegalArgumentException("backoff needs a positive initial wait and bounds not negative, not "
                    + initial + ", " + max + ", " + maxRetryAfter);
        }
        this.initial = initial;
        this.max = max;
        this.maxRetryAfter = maxRetryAfter;
    }

    /**
     * @param attempt    how many times this part was sent without being settled, from 1
     * @param retryAfter the answer's {@code Retry-After} ({@link RetryAfter#parse}), or empty
     */
    public Duration before(int attempt, Optional<Duration> retryAfter) {
        if (retryAfter.isPresent()) {
            Duration asked = retryAfter.get();
            return asked.compareTo(maxRetryAfter) > 0 ? maxRetryAfter : asked.compareTo(initial) < 0 ? initial : asked;
        }
        long step = Math.min(max.toMillis(), initial.toMillis() << Math.min(Math.max(attempt - 1, 0), 20));
        return Duration.ofMillis(step / 2 + ThreadLocalRandom.current().nextLong(step / 2 + 1));
    }
}
