package dev.eventline.trigger;

import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import org.jboss.logging.Logger;

import com.rabbitmq.client.Channel;

import dev.eventline.broker.FunctionProgress;

/**
 * The acks of a partition consumer with key concurrency, where events settle out of queue order: an ack never
 * covers an event that is not settled. Settled events below the oldest unsettled one go out in one ack with
 * {@code multiple}; those above it go out alone once there are a quarter of the window of them, or 100 ms later
 * ({@link AckWindow#QUIET}), so events done behind a long call (a slow or retrying key) leave the window and the
 * broker refills it. Acks go out every
 * {@code max(1, prefetch / 4)} settled events and within {@link PartitionAcks#ACK_DELAY} of the last, and all
 * of them when the consumer stops. Without a channel nothing is acked: the broker gives those events back and
 * they are skipped as duplicates.
 * <p>
 * What the progress reports say of the partition: its oldest event delivered here and not settled (the lag),
 * its window ({@code prefetch}: no ack is held back), and the time per event at full concurrency (a call's time
 * over {@code keyConcurrency}).
 * <p>
 * Deliveries are registered from the delivery thread, settled from the call threads, flushed from the shared
 * flusher and a stopping owner: everything below is guarded by this object's lock.
 */
final class KeyedAcks {

    private static final Logger LOG = Logger.getLogger(KeyedAcks.class);

    private final Channel channel;
    private final String function;
    private final String queue;
    private final int prefetch;
    private final int keyConcurrency;
    private final int ackEvery;
    private final FunctionProgress progress;
    private final ScheduledExecutorService flusher;
    /** Whether the consumer may still ack (its channel is open, its session current). */
    private final BooleanSupplier current;
    /** Whether the consumer has stopped taking events. */
    private final BooleanSupplier stopping;

    /** Delivery tag → gate acceptance (epoch ms) of each event delivered here and not settled. */
    private final TreeMap<Long, Long> outstanding = new TreeMap<>();
    /** Events whose calls wait out a retry's backoff: not counted in the lag. */
    private final java.util.Set<Long> resting = new java.util.HashSet<>();
    /** Settled events not yet acked. */
    private final TreeSet<Long> settled = new TreeSet<>();
    private boolean flushScheduled;
    /** A check that acks events held behind a call in progress is scheduled. */
    private boolean holdCheckScheduled;
    /** Set when stopped: the partition's progress entry is no longer this consumer's to write. */
    private boolean released;
    /** Smoothed time of one call, nanoseconds, as {@link AckWindow} smooths it; 0 until the first is measured. */
    private double callNanos;
    /** nanoTime of the last delivery or call that ended, for the owner's stall check. */
    private long lastActivity = System.nanoTime();

    KeyedAcks(Channel channel, String function, String queue, int prefetch, int keyConcurrency,
            FunctionProgress progress, ScheduledExecutorService flusher, BooleanSupplier current,
            BooleanSupplier stopping) {
        this.channel = channel;
        this.function = function;
        this.queue = queue;
        this.prefetch = prefetch;
        this.keyConcurrency = keyConcurrency;
        this.ackEvery = Math.max(1, prefetch / 4);
        this.progress = progress;
        this.flusher = flusher;
        this.current = current;
        this.stopping = stopping;
    }

    /**
     * A delivery arrived: it counts as unsettled (no ack may cover it) until {@link #settled}, whether it is
     * ever handled here or not.
     *
     * @param acceptedAt when the gate accepted it, epoch milliseconds, or not positive when unknown
     */
    synchronized void delivered(long tag, long acceptedAt) {
        outstanding.put(tag, acceptedAt > 0 ? acceptedAt : System.currentTimeMillis());
        lastActivity = System.nanoTime();
        report();
    }

    /** The event with this tag is settled: acked with the next batch. */
    void settled(long tag) throws IOException {
        boolean now;
        synchronized (this) {
            if (outstanding.remove(tag) == null) {
                return;
            }
            resting.remove(tag);
            settled.add(tag);
            report();
            now = settled.size() >= ackEvery;
        }
        if (now) {
            flush(false);
        }
    }

    /**
     * A call ended after this long (retries included): the acks of what is settled go out within
     * {@link PartitionAcks#ACK_DELAY}.
     *
     * @return whether its event is settled
     */
    boolean finished(long tag, long nanos) {
        boolean done;
        synchronized (this) {
            callNanos = AckWindow.smoothed(callNanos, nanos);
            if (!released) {
                progress.window(queue, prefetch, callNanos / keyConcurrency);
            }
            done = !outstanding.containsKey(tag);
        }
        flushSoon();
        return done;
    }

    /** The event left the window without a call (parked mode: its copy is stored in its key's parked queue). */
    void parked(long tag) throws IOException {
        settled(tag);
        flushSoon();
    }

    /** Whatever is settled is acked within {@link PartitionAcks#ACK_DELAY}. */
    private void flushSoon() {
        boolean schedule;
        synchronized (this) {
            lastActivity = System.nanoTime();
            schedule = !settled.isEmpty() && !flushScheduled;
            flushScheduled |= schedule;
        }
        if (schedule) {
            schedule(() -> flushQuietly(false), PartitionAcks.ACK_DELAY);
        }
    }

    /**
     * @return how long the consumer has held nothing (or has stopped and holds what it will never settle), 0
     *         while it holds events it works on
     */
    synchronized Duration idle() {
        return outstanding.isEmpty() || stopping.getAsBoolean() ? Duration.ofNanos(System.nanoTime() - lastActivity)
                : Duration.ZERO;
    }

    /** Acks everything settled, and stops reporting the partition: what is not acked goes back to the queue. */
    void release() {
        flushQuietly(true);
        releaseProgress();
    }

    /** Stops reporting the partition as this consumer's. */
    synchronized void releaseProgress() {
        released = true;
        progress.released(queue);
    }

    private void schedule(Runnable flush, Duration delay) {
        try {
            flusher.schedule(flush, delay.toNanos(), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            flushQuietly(true); // the function is stopping: ack now
        }
    }

    private void flushQuietly(boolean everything) {
        try {
            flush(everything);
        } catch (IOException | RuntimeException e) {
            LOG.debugf(e, "function %s partition %s: ack failed (the events come back and are skipped)", function,
                    queue);
        }
    }

    /**
     * Acks the settled events below the oldest unsettled one with one {@code multiple}; those above it (settled
     * behind a call still in progress) go out one by one, but only once there are {@code prefetch / 4} of them,
     * {@link AckWindow#QUIET} later, or when everything goes: a short call closes the gap soon, and one ack then
     * covers them all, while a long one (a slow or retrying key) holds back less than a quarter of the window,
     * for at most {@link AckWindow#QUIET}.
     */
    private void flush(boolean everything) throws IOException {
        boolean check = false;
        synchronized (this) {
            if (!everything) {
                flushScheduled = false;
            }
            if (settled.isEmpty() || !current.getAsBoolean()) {
                return;
            }
            long oldest = outstanding.isEmpty() ? Long.MAX_VALUE : outstanding.firstKey();
            int acked = 0;
            Long below = settled.lower(oldest);
            if (below != null) {
                // every unacked tag up to it is settled; and it is itself unacked, as a multiple ack needs
                channel.basicAck(below, true);
                acked = settled.headSet(below, true).size();
                settled.headSet(below, true).clear();
            }
            if (everything || settled.size() >= ackEvery) {
                for (Long tag; (tag = settled.pollFirst()) != null;) {
                    channel.basicAck(tag, false);
                    acked++;
                }
            }
            if (acked > 0) {
                progress.completed(acked);
            }
            if (!settled.isEmpty() && !holdCheckScheduled) {
                holdCheckScheduled = check = true;
            }
        }
        if (check) {
            schedule(this::holdCheck, AckWindow.QUIET);
        }
    }

    /** Events still held behind a call in progress after {@link AckWindow#QUIET} are acked one by one. */
    private void holdCheck() {
        synchronized (this) {
            holdCheckScheduled = false;
        }
        flushQuietly(true);
    }

    /** The partition's oldest event not settled here is its lag. */
    private void report() {
        if (released) {
            return;
        }
        // an event waiting for its own key holds that key, not the partition: the lag is that of the oldest event
        // that is not, so one failing key does not make the gate slow down every producer; unless the window is
        // full of them, and then every key waits
        boolean full = outstanding.size() >= prefetch;
        for (Map.Entry<Long, Long> e : outstanding.entrySet()) {
            if (full || !resting.contains(e.getKey())) {
                progress.started(queue, e.getValue());
                return;
            }
        }
        progress.finished(queue);
    }

    /**
     * The event waits (true) for its own key only (behind a call of its key, for an earlier consumer's call of its
     * key to end, or in its call for a retry's backoff), or goes on: it does not count in the lag meanwhile. The
     * lag is that of the oldest event waiting for a call or in one, which is what slowing producers can help.
     */
    synchronized void resting(long tag, boolean waiting) {
        if (waiting ? resting.add(tag) : resting.remove(tag)) {
            report();
        }
    }
}
