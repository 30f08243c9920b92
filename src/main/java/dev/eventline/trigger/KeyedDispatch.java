package dev.eventline.trigger;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

import com.rabbitmq.client.AMQP;

import dev.eventline.broker.EventCodec;
import dev.eventline.broker.Headers;

/**
 * Key concurrency in one partition consumer: up to {@code keyConcurrency} handler calls at once, never two of
 * the same partition key, and the events of one key called in the order the queue delivered them. A delivery
 * whose key has a call in progress waits behind it; one whose key is free waits for a free call, first come
 * first served. Everything waiting is in the consumer's window (unacked), so what waits is bounded by
 * {@code prefetch}. An event that ends its call unsettled (the consumer is stopping, or its channel ended)
 * stops the consumer: nothing after it, of its key or any other, starts here, and the broker gives back every
 * unacked event, in queue order.
 * <p>
 * The key is the gate's {@code eventline-partition-key} header, the key the partition was chosen by; a
 * message without one is ordered with every other message without one.
 */
final class KeyedDispatch {

    /** A delivery and its key. */
    private record Pending(String key, Delivery unread) {
    }

    private final int limit;
    private final Executor workers;
    private final PartitionCalls calls;
    private final KeyedAcks acks;
    /** Handles one delivery to the end (its call, retries, dead-lettering), on a worker thread. */
    private final Consumer<Delivery> handle;
    /** Whether calls may start: the consumer is not stopping and can still settle. */
    private final BooleanSupplier open;
    /** Stops the consumer: an event ended unsettled. */
    private final Runnable halt;

    /** Keys with a call in progress or waiting for one → their later deliveries, in order; guarded by this. */
    private final Map<String, ArrayDeque<Pending>> behind = new HashMap<>();
    /** Deliveries whose key is free, waiting for a call, in arrival order; guarded by this. */
    private final ArrayDeque<Pending> ready = new ArrayDeque<>();
    /** Calls of this consumer in progress; guarded by this. */
    private int running;

    KeyedDispatch(int limit, Executor workers, PartitionCalls calls, KeyedAcks acks, Consumer<Delivery> handle,
            BooleanSupplier open, Runnable halt) {
        this.limit = limit;
        this.workers = workers;
        this.calls = calls;
        this.acks = acks;
        this.handle = handle;
        this.open = open;
        this.halt = halt;
    }

    /** The key a message is ordered by: its partition key, "" when it carries none. */
    static String keyOf(AMQP.BasicProperties properties) {
        String key = Headers.text(properties, EventCodec.PARTITION_KEY);
        return key == null ? "" : key;
    }

    /**
     * A delivery arrived (the channel's delivery thread, which it never blocks): it starts now, or waits behind
     * its key, for a call, or for a call of its key by one of the partition's earlier consumers to end.
     */
    void arrived(Delivery unread, String key) {
        acks.delivered(unread.tag(), EventCodec.acceptedAt(unread.properties()));
        List<Pending> start;
        synchronized (this) {
            Pending p = new Pending(key, unread);
            ArrayDeque<Pending> waiting = behind.get(key);
            if (waiting != null) {
                waiting.add(p);
                return;
            }
            behind.put(key, new ArrayDeque<>());
            ready.add(p);
            start = startable();
        }
        start.forEach(this::launch);
    }

    /** @return the deliveries to start now, counted as running; guarded by this */
    private List<Pending> startable() {
        List<Pending> start = new ArrayList<>();
        while (running < limit && !ready.isEmpty() && open.getAsBoolean()) {
            Pending p = ready.poll();
            if (calls.begin(p.key(), () -> freed(p))) {
                start.add(p);
                running++;
            } // else an earlier consumer's call of its key still runs: it waits for that call to end
        }
        return start;
    }

    /** An earlier consumer's call of the pending event's key has ended: it waits for a call again, first. */
    private void freed(Pending p) {
        List<Pending> start;
        synchronized (this) {
            ready.addFirst(p);
            start = startable();
        }
        start.forEach(this::launch);
    }

    private void launch(Pending p) {
        try {
            workers.execute(() -> run(p));
        } catch (RejectedExecutionException e) {
            calls.end(p.key()); // the function is stopping: the event stays unacked and comes back
            halt.run();
            synchronized (this) {
                running--;
                notifyAll();
            }
        }
    }

    private void run(Pending p) {
        long begun = System.nanoTime();
        try {
            handle.accept(p.unread());
        } finally {
            calls.end(p.key());
            ended(p, System.nanoTime() - begun);
        }
    }

    /** A call ended: the next event of its key, if any, waits for a call; free calls start. */
    private void ended(Pending p, long nanos) {
        if (!acks.finished(p.unread().tag(), nanos)) {
            halt.run(); // nothing after it may overtake it: the broker gives it back, with the rest, in order
        }
        List<Pending> start;
        synchronized (this) {
            running--;
            ArrayDeque<Pending> waiting = behind.get(p.key());
            Pending next = waiting == null ? null : waiting.poll();
            if (next != null) {
                ready.add(next);
            } else {
                behind.remove(p.key());
            }
            start = startable();
            notifyAll();
        }
        start.forEach(this::launch);
    }

    /**
     * Waits, at most {@code wait}, for this consumer's calls in progress to end (call after stopping it).
     *
     * @return whether none is left
     */
    synchronized boolean awaitCalls(Duration wait) {
        return PartitionCalls.awaitOn(this, () -> running == 0, wait);
    }
}
