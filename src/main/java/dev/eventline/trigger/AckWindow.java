package dev.eventline.trigger;

import java.time.Duration;

/**
 * Which settled events of a partition to ack, and when, so that the events waiting in its consumer's window
 * hold no more than a time budget of work.
 * <p>
 * The broker keeps up to {@code prefetch} events unacked with a consumer. Those waiting behind the call in
 * progress are invisible to the gate (a queue reports its ready events, not those delivered), so with a slow
 * handler a full window is a wait the gate cannot see: 32 events of a 5 ms handler are 160 ms. A consumer's
 * prefetch cannot change while it consumes, but what it has not acked counts against it: while a call is in
 * progress, the consumer keeps its last {@link #hold()} settled events unacked, and the broker then sends at
 * most {@link #window()} more (the event in hand included). The window is the budget over the measured time per
 * event, between 2 (the next event is already here when a call returns) and {@code prefetch}, so a fast handler
 * keeps the whole prefetch. Once nothing was in hand for {@link #QUIET} every settled event is acked: a held
 * ack never waits for traffic, and none waits longer than {@link #MAX_HOLD} of calls, nor on one call longer
 * than that.
 * <p>
 * Held events are done (their ids are in the dedup window): after a lost connection they come back and are
 * skipped in this process, or applied again by another instance (at-least-once).
 * <p>
 * Not thread-safe: the consumer guards it with its ack lock.
 */
final class AckWindow {

    /** The longest a settled event's ack is held back: in calls of the measured time, and in one long call. */
    static final Duration MAX_HOLD = Duration.ofSeconds(5);
    /** Held acks go out once nothing was in hand for this long: the flow has paused or ended. */
    static final Duration QUIET = Duration.ofMillis(100);
    private static final double RISING = 0.2;
    private static final double FALLING = 0.5;

    private final int prefetch;
    private final int ackEvery;
    private final long budgetNanos;
    /** Delivery tags of settled events not yet acked, in order (a ring). */
    private long[] tags;
    private int head;
    private int size;
    /** Smoothed time per event, nanoseconds; 0 until the first is measured. */
    private double callNanos;
    private int lastTaken;

    /**
     * @param prefetch the consumer's prefetch
     * @param ackEvery settled events per ack at most, when nothing is held
     * @param budget   the work the waiting events may hold
     */
    AckWindow(int prefetch, int ackEvery, Duration budget) {
        this.prefetch = Math.max(1, prefetch);
        this.ackEvery = Math.max(1, ackEvery);
        this.budgetNanos = Math.max(1, budget.toNanos());
        this.tags = new long[this.prefetch + 1];
    }

    /**
     * One event took this long to handle, from its delivery to its settlement (retries included). Smoothed
     * unevenly: a shorter time counts half, a longer one a fifth, so a first call's warm-up (class loading,
     * compilation) or one slow call is soon forgotten, while a handler that stays slow closes the window within
     * a few dozen events.
     */
    void measured(long nanos) {
        callNanos = smoothed(callNanos, nanos);
    }

    /** @return the smoothed time per event after one more took {@code nanos} (see {@link #measured}) */
    static double smoothed(double callNanos, long nanos) {
        double n = Math.max(1, nanos);
        return callNanos == 0 ? n : callNanos + (n < callNanos ? FALLING : RISING) * (n - callNanos);
    }

    /** @return the smoothed time per event, nanoseconds; 0 before the first is measured */
    double callNanos() {
        return callNanos;
    }

    /** @return the events the broker may have delivered and not yet settled here (in hand and waiting) */
    int window() {
        if (callNanos == 0) {
            return prefetch;
        }
        double fits = Math.ceil(budgetNanos / callNanos);
        return (int) Math.max(Math.min(2, prefetch), Math.min(prefetch, fits));
    }

    /** @return settled events kept unacked while a call is in progress */
    int hold() {
        if (callNanos == 0) {
            return 0;
        }
        double bound = Math.floor(MAX_HOLD.toNanos() / callNanos);
        return (int) Math.max(0, Math.min(prefetch - window(), bound));
    }

    /** @return settled events per ack beyond those held: at most half the window, so the window refills */
    int batch() {
        return Math.max(1, Math.min(ackEvery, window() / 2));
    }

    /** The event with this tag is settled (every earlier one is too). */
    void settled(long tag) {
        if (size == tags.length) {
            long[] bigger = new long[tags.length * 2];
            for (int i = 0; i < size; i++) {
                bigger[i] = tags[(head + i) % tags.length];
            }
            tags = bigger;
            head = 0;
        }
        tags[(head + size) % tags.length] = tag;
        size++;
    }

    /** @return settled events not yet acked */
    int settledCount() {
        return size;
    }

    /** @return whether a call in progress should not delay an ack any longer: a batch beyond those held */
    boolean due() {
        return size >= hold() + batch();
    }

    /**
     * Takes the events to ack now: all but {@link #hold()} while the partition flows, every one otherwise.
     *
     * @return the highest tag to ack with {@code multiple}, or 0 when there is none
     */
    long take(boolean flowing) {
        int keep = flowing ? hold() : 0;
        if (size <= keep) {
            return 0;
        }
        int taken = size - keep;
        long tag = tags[(head + taken - 1) % tags.length];
        head = (head + taken) % tags.length;
        size = keep;
        lastTaken = taken;
        return tag;
    }

    /** @return how many events the last {@link #take} returned */
    int lastTaken() {
        return lastTaken;
    }
}
