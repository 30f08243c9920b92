package dev.eventline.trigger;

import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;

/**
 * One partition's handler calls in this process, for good: shared by every consumer the partition gets here
 * (a new one after a lost channel, a retake after a stall), so calls never overlap across them. At
 * {@code keyConcurrency: 1} a consumer holds {@link #serial()} while it handles an event; with key concurrency
 * each call is counted, and a new consumer starts none until the earlier consumers' calls have ended (the
 * broker gives their events back, and one still running must not run beside its own redelivery, nor beside
 * a later event of its key).
 */
final class PartitionCalls {

    private final ReentrantLock serial = new ReentrantLock();
    /** Keyed calls in progress, of any consumer of the partition; guarded by this. */
    private int inFlight;

    ReentrantLock serial() {
        return serial;
    }

    synchronized void begin() {
        inFlight++;
    }

    synchronized void end() {
        if (--inFlight == 0) {
            notifyAll();
        }
    }

    /**
     * Waits until no keyed call of the partition is in progress.
     *
     * @param stopped polled while waiting: true gives up
     * @return false when given up, or interrupted
     */
    synchronized boolean awaitIdle(BooleanSupplier stopped) {
        while (inFlight > 0) {
            if (stopped.getAsBoolean()) {
                return false;
            }
            try {
                wait(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }
}
