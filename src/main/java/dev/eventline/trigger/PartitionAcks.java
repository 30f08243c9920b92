package dev.eventline.trigger;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import org.jboss.logging.Logger;

import com.rabbitmq.client.Channel;

import dev.eventline.broker.FunctionProgress;

/**
 * The acks of one partition consumer, and what its progress reports say of the partition. Events are settled
 * in queue order, so one ack with {@code multiple} covers exactly the settled ones. Acks go out every
 * {@code max(1, prefetch / 4)} settled events and within {@link #ACK_DELAY} of the last, and all of them when
 * the consumer stops; for a slow handler the latest settled ones are held back while the partition flows, so
 * that what waits in the window holds at most a share of the latency target ({@link AckWindow}). Without a
 * channel nothing is acked: the broker gives those events back and they are skipped as duplicates.
 * <p>
 * Acks go out from the delivery thread, from the shared flusher and from a stopping owner, so everything
 * below is guarded by this object's lock.
 */
final class PartitionAcks {

    private static final Logger LOG = Logger.getLogger(PartitionAcks.class);
    /** Longest an ack of a settled event waits for more to go out with it. */
    static final Duration ACK_DELAY = Duration.ofMillis(2);
    /** The events waiting in a window hold at most the latency target over this of work (see {@link AckWindow}). */
    static final int WINDOW_SHARE_OF_TARGET = 4;

    private final Channel channel;
    private final String function;
    private final String queue;
    private final FunctionProgress progress;
    private final ScheduledExecutorService flusher;
    /** Whether the consumer may still ack (its channel is open). */
    private final BooleanSupplier current;
    private final BooleanSupplier stopping;
    /** Settled events not yet acked, and how many of them to keep so while a call is in progress. */
    private final AckWindow window;

    /** nanoTime of the last delivery taken or finished, for the owner's stall check. */
    private volatile long lastActivity = System.nanoTime();
    private volatile boolean inHand;
    private boolean flushScheduled;
    /** A check that releases held acks once the partition is quiet, or its call has run long, is scheduled. */
    private boolean holdCheckScheduled;
    /** Whether the delivery in hand is settled already, and since when it is in hand. */
    private boolean inHandSettled;
    private long inHandSince;
    /** Set when stopped: the partition's progress entry is no longer this consumer's to write. */
    private boolean released;

    PartitionAcks(Channel channel, String function, String queue, int prefetch, Duration latencyTarget,
            FunctionProgress progress, ScheduledExecutorService flusher, BooleanSupplier current,
            BooleanSupplier stopping) {
        this.channel = channel;
        this.function = function;
        this.queue = queue;
        this.progress = progress;
        this.flusher = flusher;
        this.current = current;
        this.stopping = stopping;
        this.window = new AckWindow(prefetch, Math.max(1, prefetch / 4),
                latencyTarget.dividedBy(WINDOW_SHARE_OF_TARGET));
    }

    /** A delivery arrived (it may still wait for the partition's handling lock). */
    void arrived() {
        inHand = true;
    }

    /**
     * A delivery is being handled: events are settled in queue order, so it is the partition's oldest event not
     * done (those before it are settled, some perhaps not yet acked); its age is the partition's lag.
     *
     * @param acceptedAt when the gate accepted it, epoch milliseconds, or not positive when unknown
     */
    void handling(long acceptedAt) {
        long at = acceptedAt > 0 ? acceptedAt : System.currentTimeMillis();
        synchronized (this) {
            inHandSettled = false;
            inHandSince = System.nanoTime();
            if (!released) {
                progress.started(queue, at);
            }
        }
    }

    /** The delivery in hand took this long to handle (the window follows the handler's pace). */
    synchronized void handled(long nanos) {
        window.measured(nanos);
        if (!released) {
            progress.window(queue, window.window(), window.callNanos());
        }
    }

    /** The delivery is no longer in hand: settled events not yet acked go out within {@link #ACK_DELAY}. */
    void done() {
        lastActivity = System.nanoTime();
        inHand = false;
        synchronized (this) {
            if (window.settledCount() == 0 || flushScheduled) {
                return;
            }
            flushScheduled = true;
        }
        schedule(() -> flushQuietly(false), ACK_DELAY);
    }

    /** @return how long the consumer has held no event, or 0 while it holds one */
    Duration idle() {
        return inHand ? Duration.ZERO : Duration.ofNanos(System.nanoTime() - lastActivity);
    }

    /** The event with this tag is settled: acked with the next batch (every event before it is settled too). */
    void settled(long tag) throws IOException {
        boolean now;
        synchronized (this) {
            window.settled(tag);
            inHandSettled = true;
            now = window.due();
        }
        if (now) {
            flush(false);
        }
    }

    /** Acks everything settled, and stops reporting the partition: what is not acked goes back to the queue. */
    void release() {
        flushQuietly(true);
        releaseProgress();
    }

    /** Stops reporting the partition as this consumer's (its handler call would not let it ack in time). */
    synchronized void releaseProgress() {
        released = true; // what it held goes back to the queue: no longer this process's lag
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
     * Acks settled events with one ack with {@code multiple}: all of them when stopping, or once the partition
     * has been quiet for {@link AckWindow#QUIET} (nothing in hand), or when one call has run for
     * {@link AckWindow#MAX_HOLD}; otherwise all but those {@link AckWindow} holds, and a check follows after
     * {@link AckWindow#QUIET} while any are held.
     */
    private void flush(boolean everything) throws IOException {
        boolean check = false;
        synchronized (this) {
            if (!everything) {
                flushScheduled = false;
            }
            if (window.settledCount() == 0 || !current.getAsBoolean()) {
                return;
            }
            long now = System.nanoTime();
            // a delivery in hand, or one that ended a moment ago, means more of the window follows (a broker slow
            // to refill the window leaves short gaps: releasing what is held there would open it wide)
            boolean flowing = inHand ? now - inHandSince < AckWindow.MAX_HOLD.toNanos()
                    : now - lastActivity < AckWindow.QUIET.toNanos();
            long tag = window.take(!everything && !stopping.getAsBoolean() && flowing);
            if (tag != 0) {
                channel.basicAck(tag, true);
                progress.completed(window.lastTaken());
            }
            if (window.settledCount() > 0 && !holdCheckScheduled) {
                holdCheckScheduled = check = true;
            }
            if (!released && !(inHand && !inHandSettled)) {
                progress.finished(queue);
            }
        }
        if (check) {
            schedule(this::holdCheck, AckWindow.QUIET);
        }
    }

    /** Held acks: released once the partition is quiet, or checked again. */
    private void holdCheck() {
        synchronized (this) {
            holdCheckScheduled = false;
        }
        flushQuietly(false);
    }
}
