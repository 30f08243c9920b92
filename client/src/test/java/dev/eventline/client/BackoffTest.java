package dev.eventline.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

import org.junit.jupiter.api.Test;

/** The public resend rule: what it accepts, and the waits it gives. */
class BackoffTest {

    private static final Duration MS_100 = Duration.ofMillis(100);

    @Test
    void refusesAWaitThatWouldSpinAndBoundsBelowZero() {
        assertThrows(IllegalArgumentException.class, () -> new Backoff(Duration.ZERO, MS_100, MS_100));
        assertThrows(IllegalArgumentException.class, () -> new Backoff(Duration.ofMillis(-1), MS_100, MS_100));
        assertThrows(IllegalArgumentException.class, () -> new Backoff(MS_100, Duration.ofMillis(-1), MS_100));
        assertThrows(IllegalArgumentException.class, () -> new Backoff(MS_100, MS_100, null));
    }

    @Test
    void waitsTheGatesRetryAfterWithinItsBoundsElseBacksOffWithJitter() {
        Backoff b = new Backoff(MS_100, Duration.ofSeconds(1), Duration.ofSeconds(5));
        Instant now = Instant.now();
        assertEquals(Duration.ofSeconds(3), b.before(1, RetryAfter.parse("3", now)));
        assertEquals(Duration.ofSeconds(5), b.before(1, RetryAfter.parse("86400", now)));
        assertEquals(MS_100, b.before(1, RetryAfter.parse("0", now)));
        for (int attempt = 1; attempt <= 30; attempt++) {
            long step = Math.min(1000, 100L << Math.min(attempt - 1, 20));
            long wait = b.before(attempt, Optional.empty()).toMillis();
            assertTrue(wait >= step / 2 && wait <= step, "attempt " + attempt + ": " + wait + " ms of step " + step);
        }
    }
}
