package dev.eventline.gate;

import dev.eventline.config.FunctionDescription;
import dev.eventline.metrics.FunctionLoad;
import dev.eventline.metrics.LoadView;

/**
 * How loaded a function is, as admission judges it from the gate's view ({@link LoadView}) and the function's
 * limits: under its latency target and soft limits ({@code OK}), past them ({@code SOFT}: requests are held), or
 * past a hard limit ({@code HARD}: refused at once). Pure functions of the view; {@link Backpressure} acts on
 * them.
 */
enum AdmissionLevel {
    OK, SOFT, HARD;

    /** The level of a function's load as admission judges it (see {@link Backpressure}). */
    static AdmissionLevel of(FunctionDescription fn, LoadView v) {
        FunctionDescription.Limits l = fn.limits();
        double lag = admissionLag(v);
        // refused at once only on a lag also seen (the age in hand, or how long nothing drained), never on a wait
        // projected from a rate alone: a rate caught low (a consumer's pause) would otherwise answer 429 with the
        // longest Retry-After
        if (v.depth() >= l.depthHard() || Math.min(lag, v.lagSeconds()) >= l.lagHardSeconds()) {
            return HARD;
        }
        if (v.depth() >= l.depthSoft() || lag >= Math.min(l.lagSoftSeconds(), target(fn))) {
            return SOFT;
        }
        boolean unmeasured = v.drainPerSecond() <= 0.01;
        long window = unmeasured ? coldWindow(fn, v) : twoWindows(fn, v);
        if (v.reporting() && v.hottest() >= (long) fn.partitions() * window
                && (unmeasured || v.hottest() / v.drainPerSecond() >= target(fn))) {
            // consumers are there but what they can take is not known: their rate is not measured yet (a start, a
            // burst after a quiet spell), or it is only what came (no backlog: they kept up, and the age in hand
            // judged above is young). Past two windows in the fullest partition, a wait projected from that rate
            // counts after all (without this, a flood's first second was let in whole, and a flood that began
            // between two readings of an empty queue went in until the next one). The time per event bounds only
            // the start: with a rate measured, a light flow's few events would be held on a projection from it
            return SOFT;
        }
        return OK;
    }

    /**
     * Events the fullest partition may hold while what its consumer can take is not known: two windows, and at
     * least {@link FunctionLoad#MIN_COLD_WINDOW} (a window of 1 or 2 would hold every start to a few events); but no more
     * than half the latency target of calls at the time per event its consumers report (they measure it from
     * their first event on). Two windows of a 5 ms handler, 64 events, were 430 ms: a flood's first second went
     * past twice the target before the first drain rate came in. (The call time alone does not bound a fast
     * handler: the broker's deliveries, not the call, then set the pace.)
     */
    static long coldWindow(FunctionDescription fn, LoadView v) {
        long windows = twoWindows(fn, v);
        if (v.callSeconds() > 0) {
            return Math.min(windows, Math.max(2, (long) (target(fn) / 2 / v.callSeconds())));
        }
        return windows;
    }

    /**
     * Two windows of the fullest partition's consumer, at least {@link FunctionLoad#MIN_COLD_WINDOW}; but a window its
     * consumer narrowed for a slow handler (to a quarter of the target of calls, see {@code AckWindow}) counts
     * as it is, without that floor: two of them are half the target of calls, where 32 events of a 5 ms
     * handler were 160 ms and let a flood's held requests in together.
     */
    private static long twoWindows(FunctionDescription fn, LoadView v) {
        if (v.window() > 0 && v.window() < fn.prefetch()) {
            return 2L * v.window();
        }
        return Math.max(FunctionLoad.MIN_COLD_WINDOW, 2 * fn.prefetch());
    }

    /** @return the function's latency target, seconds */
    static double target(FunctionDescription fn) {
        return fn.limits().latencyTarget().toNanos() / 1e9;
    }

    /**
     * The lag admission judges: the wait a new event faces at the measured drain rate in the fullest partition
     * (its depth × P ÷ drain: each partition drains about 1/P of the rate, and a hot key's partition is where
     * events wait longest; the average, depth ÷ drain, let a hot partition's events wait seconds while the
     * others were empty).
     * <ul>
     * <li>With a backlog (a partition has a full window and events ready behind it), that projected wait
     * alone: the consumers take all they can, so the drain rate is their capacity. The age of the oldest event
     * in hand is no guide then: a report taken between two windows, or while a busy broker was slow to hand
     * out events, said "nothing in hand", and the age that made let a flood in every other reading.</li>
     * <li>Without one, the smaller of the two: the consumers keep up, so the drain rate is only what came, and
     * the projected wait of a burst from it overreacts (a light flow's 90 events "waited" half a second at its
     * 90 events/s); the age of the oldest event in hand says how long events really wait (as of its report;
     * one that had waited half the target by then is taken to wait on, see {@link FunctionLoad#view}). Past two
     * windows in the fullest partition the projection counts again ({@link #of}).</li>
     * <li>When nothing drains, the age.</li>
     * </ul>
     */
    static double admissionLag(LoadView v) {
        if (v.drainPerSecond() <= 0.01) {
            return v.lagSeconds();
        }
        double projected = v.hottest() / v.drainPerSecond();
        return v.backlog() ? projected : Math.min(v.lagSeconds(), projected);
    }
}
