package dev.eventline.trigger;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;

/**
 * One partition's handler calls in this process, for good: shared by every consumer the partition gets here
 * (a new one after a lost channel, a retake after a stall), so calls never overlap across them. At
 * {@code keyConcurrency: 1} a consumer holds {@link #serial()} while it handles an event. With key concurrency
 * each call counts under its key from its start until its handler has ended, and no consumer starts a call of
 * a key while another consumer's call of that key runs: the broker gives an old consumer's events back to the
 * new one, and an event still in a call must not run beside its own redelivery, nor beside a later event of
 * its key. Other keys start at once, so one stuck handler holds its key, not the partition.
 */
final class PartitionCalls {

    private final ReentrantLock serial = new ReentrantLock();
    /** Keys with a keyed call in progress, of any consumer of the partition; guarded by this. */
    private final Set<String> running = new HashSet<>();
    /** Per key, what runs once its calls have ended; guarded by this. */
    private final Map<String, List<Runnable>> whenFree = new HashMap<>();

    ReentrantLock serial() {
        return serial;
    }

    /**
     * Counts a call of {@code key} as started, unless a call of that key is in progress: then {@code thenRetry}
     * runs once it has ended (on the thread that ends it), and nothing is counted.
     *
     * @return whether the call may start
     */
    synchronized boolean begin(String key, Runnable thenRetry) {
        if (running.contains(key)) {
            whenFree.computeIfAbsent(key, k -> new ArrayList<>()).add(thenRetry);
            return false;
        }
        running.add(key);
        return true;
    }

    /** A call of {@code key} has ended (its handler included). */
    void end(String key) {
        List<Runnable> retry;
        synchronized (this) {
            running.remove(key);
            notifyAll();
            retry = whenFree.remove(key);
        }
        if (retry != null) {
            retry.forEach(Runnable::run);
        }
    }

    /**
     * Waits, at most {@code wait}, until no call of the partition is in progress.
     *
     * @return whether none is
     */
    synchronized boolean awaitIdle(Duration wait) {
        return awaitOn(this, running::isEmpty, wait);
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
