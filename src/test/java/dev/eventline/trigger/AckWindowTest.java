package dev.eventline.trigger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;

import org.junit.jupiter.api.Test;

/** The adaptive window's arithmetic (its effect on a real broker: {@code WindowTest}). */
class AckWindowTest {

    private static final Duration BUDGET = Duration.ofMillis(25);

    @Test
    void beforeAnyMeasurementTheWholePrefetchIsTheWindowAndNothingIsHeld() {
        AckWindow w = new AckWindow(32, 8, BUDGET);
        assertEquals(32, w.window());
        assertEquals(0, w.hold());
        assertEquals(8, w.batch());
    }

    @Test
    void aFastHandlerKeepsTheWholePrefetch() {
        AckWindow w = new AckWindow(32, 8, BUDGET);
        w.measured(50_000); // 50 µs
        assertEquals(32, w.window());
        assertEquals(0, w.hold());
        for (long tag = 1; tag <= 7; tag++) {
            w.settled(tag);
            assertFalse(w.due(), "acked after " + tag);
        }
        w.settled(8);
        assertTrue(w.due());
        assertEquals(8, w.take(true));
        assertEquals(8, w.lastTaken());
        assertEquals(0, w.settledCount());
    }

    @Test
    void aSlowHandlersWindowIsTheBudgetOverItsTimeAndTheRestOfThePrefetchIsHeld() {
        AckWindow w = new AckWindow(32, 8, BUDGET);
        w.measured(Duration.ofMillis(5).toNanos());
        assertEquals(5, w.window());
        assertEquals(27, w.hold());
        assertEquals(2, w.batch());
        for (long tag = 1; tag <= 28; tag++) {
            w.settled(tag);
            assertFalse(w.due());
        }
        w.settled(29);
        assertTrue(w.due()); // 27 held and a batch of 2: at most 32 - 27 = 5 delivered and not settled
        assertEquals(2, w.take(true)); // the oldest two go
        assertEquals(27, w.settledCount());
        assertEquals(0, w.take(true)); // nothing beyond the held ones
        assertEquals(29, w.take(false)); // idle: everything
        assertEquals(27, w.lastTaken());
        assertEquals(0, w.take(false));
    }

    @Test
    void theWindowNeverFallsUnderTwoNorHoldsAckedEventsForLongerThanTheBound() {
        AckWindow w = new AckWindow(32, 8, BUDGET);
        w.measured(Duration.ofSeconds(1).toNanos());
        assertEquals(2, w.window());
        assertEquals(5, w.hold()); // 5 s of calls at most
        assertEquals(1, w.batch());
        AckWindow one = new AckWindow(1, 1, BUDGET);
        one.measured(Duration.ofSeconds(1).toNanos());
        assertEquals(1, one.window());
        assertEquals(0, one.hold());
    }

    @Test
    void theMeasuredTimeIsSmoothedSoOneSlowCallDoesNotCloseTheWindow() {
        AckWindow w = new AckWindow(32, 8, BUDGET);
        w.measured(50_000);
        w.measured(Duration.ofMillis(10).toNanos()); // one slow call: 2 ms on average
        assertEquals(13, w.window());
        for (int i = 0; i < 8; i++) {
            w.measured(50_000); // each faster call halves the distance
        }
        assertEquals(32, w.window());
    }

    @Test
    void aFirstCallsWarmUpIsSoonForgottenAndAHandlerThatStaysSlowClosesTheWindow() {
        AckWindow w = new AckWindow(32, 8, BUDGET);
        w.measured(Duration.ofMillis(200).toNanos()); // class loading, compilation
        assertEquals(2, w.window());
        for (int i = 0; i < 12; i++) {
            w.measured(50_000);
        }
        assertEquals(32, w.window());
        for (int i = 0; i < 30; i++) {
            w.measured(Duration.ofMillis(6).toNanos());
        }
        assertEquals(5, w.window()); // 25 ms over 6 ms
    }

    @Test
    void moreSettledThanThePrefetchStillFits() {
        AckWindow w = new AckWindow(2, 1, BUDGET);
        for (long tag = 1; tag <= 10; tag++) {
            w.settled(tag);
        }
        assertEquals(10, w.settledCount());
        assertEquals(10, w.take(false));
    }
}
