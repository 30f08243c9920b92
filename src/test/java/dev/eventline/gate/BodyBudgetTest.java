package dev.eventline.gate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class BodyBudgetTest {

    private static final int MAX_EVENT = 256 * 1024;

    @Test
    void aBodyCostsItsBytesSeveralTimesAndTheTreeOfItsLargestEvent() {
        BodyBudget budget = new BodyBudget(1 << 30, MAX_EVENT);
        assertEquals(4 * 1000 + 32 * 1000, budget.cost(1000));
        assertEquals(4L * (4 << 20) + 32L * MAX_EVENT, budget.cost(4 << 20), "events are built one at a time");
    }

    @Test
    void refusesWhatWouldOverspendAndTakesItBackWhenReleased() {
        BodyBudget budget = new BodyBudget(100, MAX_EVENT);
        assertTrue(budget.tryReserve(60));
        assertFalse(budget.tryReserve(50));
        assertTrue(budget.tryReserve(40));
        budget.release(60);
        assertTrue(budget.tryReserve(50));
        budget.release(90);
        assertEquals(0, budget.used());
    }

    @Test
    void oneRequestAloneMayAlwaysProceed() {
        BodyBudget budget = new BodyBudget(100, MAX_EVENT);
        assertTrue(budget.tryReserve(1000), "a body larger than the whole budget, with nothing else in hand");
        assertFalse(budget.tryReserve(1));
    }
}
