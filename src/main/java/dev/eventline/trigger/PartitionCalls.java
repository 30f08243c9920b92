package dev.eventline.trigger;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;

/**
 * One partition's handler calls in this process, for good: shared by every consumer the partition gets here
 * (a new one after a lost channel, a retake after a stall), so calls never overlap across them. At
 * {@code keyConcurrency: 1} a consumer holds {@link #serial()} while it handles an event; with key concurrency
 * each call is counted from its start until its handler has ended (an abandoned, timed-out handler included),
 * and a new consumer starts none until the earlier consumers' calls have ended (the broker gives their events
 * back, and one still running must not run beside its own redelivery, nor beside a later event of its key).
 */
final class PartitionCalls {

    private final ReentrantLock serial = new ReentrantLock();
    /** Keyed calls in progress, of any consumer of the partition; guarded by this. */
    private int inFlight;
    /** What runs once no call is in progress; guarded by this. */
    private final List<Runnable> whenIdle = new ArrayList<>();

    ReentrantLock serial() {
        return serial;
    }

    synchronized void begin() {
        inFlight++;
    }

    void end() {
        List<Runnable> run;
        synchronized (this) {
            if (--inFlight > 0) {
                return;
            }
            notifyAll();
            run = List.copyOf(whenIdle);
            whenIdle.clear();
        }
        run.forEach(Runnable::run);
    }

    /** Runs {@code then} once no call of the partition is in progress: now (on this thread), or when the last ends. */
    void whenIdle(Runnable then) {
        synchronized (this) {
            if (inFlight > 0) {
                whenIdle.add(then);
                return;
            }
        }
        then.run();
    }

    /**
     * Waits, at most {@code wait}, until no call of the partition is in progress.
     *
     * @return whether none is
     */
    synchronized boolean awaitIdle(Duration wait) {
        return awaitOn(this, () -> inFlight == 0, wait);
    }

    /**
     * Waits on {@code monitor}, which the caller holds and notifies when things change, until {@code done}, at
     * most {@code wait}.
     *
     * @return whether done
     */
    static boolean awaitOn(Object monitor, BooleanSupplier done, Duration wait) {
        long deadline = System.nanoTime() + wait.toNanos();
        try {
            for (long left; !done.getAsBoolean();) {
                left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(monitor, left);
            }
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return done.getAsBoolean();
        }
    }
}
