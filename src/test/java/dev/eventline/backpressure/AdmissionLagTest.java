package dev.eventline.backpressure;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Admission judges lag as the wait a new event faces while events drain, and as age when nothing drains. */
class AdmissionLagTest {

    @Test
    void whileEventsDrainLagIsTheProjectedWaitWhenShorterThanTheAge() {
        // 10000 queued at 1250/s: 8 s of wait, though the oldest event is 25 s old
        assertEquals(8.0, Backpressure.admissionLag(new FunctionLoad.View(10_000, 1_250, 25, true)), 1e-9);
    }

    @Test
    void aDrainRateStillBeingMeasuredDoesNotInflateLag() {
        // a backlog just started: 400 queued, 0.5/s measured so far, the oldest event 0.3 s old
        assertEquals(0.3, Backpressure.admissionLag(new FunctionLoad.View(400, 0.5, 0.3, true)), 1e-9);
    }

    @Test
    void theLatencyTargetHoldsProducersOnceANewEventWouldWaitLonger() {
        dev.eventline.config.FunctionDescription fn = new dev.eventline.config.DescriptionParser().parse("f.yaml",
                "name: f\neventTypes: [a.b]\nlimits:\n  latencyTargetMs: 200\n", null);
        // 1000 queued at 5000/s: a new event waits 0.2 s, the target: held; 900 waits 0.18 s: admitted
        assertEquals("SOFT", Backpressure.level(fn, new FunctionLoad.View(1_000, 5_000, 3, true)).name());
        assertEquals("OK", Backpressure.level(fn, new FunctionLoad.View(900, 5_000, 3, true)).name());
        // the hard limits still refuse at once
        assertEquals("HARD", Backpressure.level(fn, new FunctionLoad.View(50_000, 5_000, 3, true)).name());
    }

    @Test
    void aHotPartitionsWaitCountsNotTheAverage() {
        // 800 queued at 8000/s is 0.1 s on average, but 400 of them sit in one of 8 partitions, which drains
        // about 1000/s: its events wait 0.4 s
        assertEquals(0.4, Backpressure.admissionLag(new FunctionLoad.View(800, 8_000, 3, true, 8 * 400)), 1e-9);
    }

    @Test
    void whenNothingDrainsLagIsTheAgeOfTheOldestEvent() {
        assertEquals(42.0, Backpressure.admissionLag(new FunctionLoad.View(37, 0, 42, false)), 1e-9);
    }
}
