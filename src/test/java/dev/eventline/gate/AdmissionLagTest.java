package dev.eventline.gate;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import dev.eventline.metrics.LoadView;

/** Admission judges lag as the wait a new event faces while events drain, and as age when nothing drains. */
class AdmissionLagTest {

    @Test
    void whileEventsDrainLagIsTheProjectedWaitWhenShorterThanTheAge() {
        // 10000 queued at 1250/s: 8 s of wait, though the oldest event is 25 s old
        assertEquals(8.0, AdmissionLevel.admissionLag(new LoadView(10_000, 1_250, 25, true)), 1e-9);
    }

    @Test
    void aDrainRateStillBeingMeasuredDoesNotInflateLag() {
        // a burst just started, no backlog read yet: 400 queued, 0.5/s measured so far, the oldest event 0.3 s old
        assertEquals(0.3, AdmissionLevel.admissionLag(new LoadView(400, 0.5, 0.3, true)), 1e-9);
    }

    @Test
    void aWaitProjectedFromARateAloneNeverRefusesAtOnce() {
        dev.eventline.config.FunctionDescription fn = new dev.eventline.config.DescriptionParser().parse("f.yaml",
                "name: f\neventTypes: [a.b]\npartitions: 4\n", null);
        // a backlog of 256 at a rate caught at 0.02/s (a consumer's pause): 12800 s projected, over the hard
        // lag limit (60 s), but the event in hand is 0.5 s old: held (SOFT), not refused with the longest
        // Retry-After
        LoadView paused = new LoadView(256, 0.02, 0.5, true, 256, true, true);
        assertEquals("SOFT", AdmissionLevel.of(fn, paused).name());
        // once the age itself passes the hard limit, refused at once
        assertEquals("HARD", AdmissionLevel.of(fn, new LoadView(256, 0.02, 61, true, 256, true, true))
                .name());
    }

    @Test
    void theLatencyTargetHoldsProducersOnceANewEventWouldWaitLonger() {
        dev.eventline.config.FunctionDescription fn = new dev.eventline.config.DescriptionParser().parse("f.yaml",
                "name: f\neventTypes: [a.b]\nlimits:\n  latencyTargetMs: 200\n", null);
        // 1000 queued at 5000/s: a new event waits 0.2 s, the target: held; 900 waits 0.18 s: admitted
        assertEquals("SOFT", AdmissionLevel.of(fn, new LoadView(1_000, 5_000, 3, true)).name());
        assertEquals("OK", AdmissionLevel.of(fn, new LoadView(900, 5_000, 3, true)).name());
        // the hard limits still refuse at once
        assertEquals("HARD", AdmissionLevel.of(fn, new LoadView(50_000, 5_000, 3, true)).name());
    }

    @Test
    void aHotPartitionsWaitCountsNotTheAverage() {
        // 800 queued at 8000/s is 0.1 s on average, but 400 of them sit in one of 8 partitions, which drains
        // about 1000/s: its events wait 0.4 s
        assertEquals(0.4, AdmissionLevel.admissionLag(new LoadView(800, 8_000, 3, true, 8 * 400)), 1e-9);
    }

    @Test
    void untilTheDrainIsMeasuredTheFullestPartitionGetsTwoWindows() {
        dev.eventline.config.FunctionDescription fn = new dev.eventline.config.DescriptionParser().parse("f.yaml",
                "name: f\neventTypes: [a.b]\npartitions: 4\nprefetch: 20\n", null);
        // consumers report, nothing measured yet: 4 partitions x 2 windows of 20 = 160 (as if every partition held
        // what the fullest does)
        assertEquals("OK", AdmissionLevel.of(fn, new LoadView(70, 0, 0, true, 159, true, false)).name());
        assertEquals("SOFT", AdmissionLevel.of(fn, new LoadView(70, 0, 0, true, 160, true, false)).name());
        // no consumer reports (a gate alone, or consumers not started): nothing to wait for, the limits decide
        assertEquals("OK", AdmissionLevel.of(fn, new LoadView(70, 0, 0, true, 160, false, false)).name());
        // a drain measured without a backlog (a light flow, young events in hand): past two windows the wait
        // projected from it counts (160 at 1000/s: 0.16 s, over the default 0.1 s target), under them it does not
        assertEquals("SOFT", AdmissionLevel.of(fn, new LoadView(70, 1_000, 0.01, true, 160, true, false))
                .name());
        assertEquals("OK", AdmissionLevel.of(fn, new LoadView(70, 1_000, 0.01, true, 159, true, false))
                .name());
        assertEquals("OK", AdmissionLevel.of(fn, new LoadView(70, 2_000, 0.01, true, 160, true, false))
                .name());
        // a window of 1 still lets a start have 32 events in the fullest partition
        dev.eventline.config.FunctionDescription narrow = new dev.eventline.config.DescriptionParser().parse("f.yaml",
                "name: f\neventTypes: [a.b]\npartitions: 4\nprefetch: 1\n", null);
        assertEquals("OK", AdmissionLevel.of(narrow, new LoadView(70, 0, 0, true, 127, true, false))
                .name());
        assertEquals("SOFT", AdmissionLevel.of(narrow, new LoadView(70, 0, 0, true, 128, true, false))
                .name());
    }

    @Test
    void aSlowHandlersColdWindowIsHalfTheTargetOfItsCalls() {
        dev.eventline.config.FunctionDescription fn = new dev.eventline.config.DescriptionParser().parse("f.yaml",
                "name: f\neventTypes: [a.b]\npartitions: 4\nprefetch: 20\n", null);
        // consumers report 5 ms per event: half the 100 ms target is 10 events per partition, not two windows
        assertEquals("OK", AdmissionLevel.of(fn, new LoadView(30, 0, 0, true, 39, true, false, 0.005, 0))
                .name());
        assertEquals("SOFT", AdmissionLevel.of(fn, new LoadView(30, 0, 0, true, 40, true, false, 0.005, 0))
                .name());
        // once a drain rate is measured (no backlog), two windows again: a light flow is not held on a projection
        assertEquals("OK", AdmissionLevel.of(fn,
                new LoadView(30, 100, 0.01, true, 159, true, false, 0.005, 0))
                .name());
        // a window narrowed for a slow handler (5 events of 20): past two of them the projection counts
        assertEquals("SOFT", AdmissionLevel.of(fn, new LoadView(30, 100, 0.01, true, 40, true, false, 0.005,
                5)).name());
        assertEquals("OK", AdmissionLevel.of(fn, new LoadView(30, 100, 0.01, true, 39, true, false, 0.005,
                5)).name());
        // a fast handler: the broker sets the pace, so two windows still bound it
        assertEquals(40, AdmissionLevel.coldWindow(fn,
                new LoadView(30, 0, 0, true, 40, true, false, 0.00005, 0)));
        // a handler slower than half the target: 2 events
        assertEquals(2, AdmissionLevel.coldWindow(fn, new LoadView(30, 0, 0, true, 40, true, false, 1.0, 0)));
    }

    @Test
    void withABacklogTheProjectedWaitStandsWhateverTheAgeInHand() {
        // 6000 ready at 6000/s, the fullest partition a quarter: 1 s, though the consumers' last reports said
        // nothing in hand (or a young event): the drain is their capacity, the projection holds
        assertEquals(1.0, AdmissionLevel.admissionLag(new LoadView(6_000, 6_000, 0, true, 6_000, true, true)),
                1e-9);
        assertEquals(1.0, AdmissionLevel.admissionLag(new LoadView(6_000, 6_000, 0.05, true, 6_000, true,
                true)), 1e-9);
        // the same numbers without a backlog (a light flow's drain): the age in hand says how long events wait
        assertEquals(0.05, AdmissionLevel.admissionLag(new LoadView(6_000, 6_000, 0.05, true, 6_000, true,
                false)), 1e-9);
    }

    @Test
    void whenNothingDrainsLagIsTheAgeOfTheOldestEvent() {
        assertEquals(42.0, AdmissionLevel.admissionLag(new LoadView(37, 0, 42, false)), 1e-9);
    }
}
