package dev.eventline.client;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Every event the client holds, per partition key, bounded in events and in bytes. An event stays here from
 * {@link #put} until it is settled ({@link #settle}: delivered or rejected), also while it is in flight, so the
 * bounds cover everything the client holds.
 *
 * <p>Order per key: only the oldest event of a key can be in flight, and a key is offered to the senders
 * ({@link #take}) only while its oldest event is not. So event k+1 of a key is sent only after event k was
 * settled, whatever the retries in between; different keys never wait for each other.
 */
final class KeyedBuffer {

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    /** Per key, its events oldest first; the first one may be in flight. */
    private final Map<String, ArrayDeque<Pending>> byKey = new HashMap<>();
    /** Keys whose oldest event is not in flight, in the order they became sendable. */
    private final ArrayDeque<String> ready = new ArrayDeque<>();
    private final int maxEvents;
    private final long maxBytes;
    private int events;
    private long bytes;
    private boolean intakeClosed;
    private boolean stopped;

    KeyedBuffer(int maxEvents, long maxBytes) {
        this.maxEvents = maxEvents;
        this.maxBytes = maxBytes;
    }

    /** Whether an event of this size could ever be taken. */
    boolean canHold(Pending p) {
        return p.size() <= maxBytes;
    }

    /**
     * Takes the event, waiting up to {@code timeoutNanos} while the buffer is full.
     *
     * @return false when the buffer stayed full
     * @throws IllegalStateException when the client is closed (the event was not taken)
     */
    boolean put(Pending p, long timeoutNanos) throws InterruptedException {
        lock.lock();
        try {
            for (long left = timeoutNanos; !intakeClosed && !fits(p); left = changed.awaitNanos(left)) {
                if (left <= 0) {
                    return false;
                }
            }
            if (intakeClosed) {
                throw new IllegalStateException("the client is closed");
            }
            events++;
            bytes += p.size();
            ArrayDeque<Pending> queue = byKey.computeIfAbsent(p.key(), k -> new ArrayDeque<>());
            queue.addLast(p);
            if (queue.size() == 1) {
                ready.addLast(p.key());
                changed.signalAll();
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    private boolean fits(Pending p) {
        return events < maxEvents && bytes + p.size() <= maxBytes;
    }

    /**
     * The next batch: the oldest event of up to {@code maxEvents} sendable keys, at most {@code maxBytes} of
     * JSON (a larger event goes alone). Waits for a first sendable key, then up to {@code lingerNanos} for the
     * batch to fill.
     *
     * @return the batch, marked in flight; empty once {@link #stop} was called
     */
    List<Pending> take(int maxEvents, long maxBytes, long lingerNanos) throws InterruptedException {
        lock.lock();
        try {
            for (;;) {
                while (ready.isEmpty() && !stopped) {
                    changed.await();
                }
                for (long left = lingerNanos; ready.size() < maxEvents && left > 0 && !stopped;) {
                    left = changed.awaitNanos(left);
                }
                if (stopped) {
                    return List.of();
                }
                if (!ready.isEmpty()) {
                    return batch(maxEvents, maxBytes);
                }
            }
        } finally {
            lock.unlock();
        }
    }

    private List<Pending> batch(int maxEvents, long maxBytes) {
        List<Pending> batch = new ArrayList<>(Math.min(maxEvents, ready.size()));
        long size = 2;
        while (!ready.isEmpty() && batch.size() < maxEvents) {
            Pending oldest = byKey.get(ready.peekFirst()).peekFirst();
            size += oldest.json().length + 1;
            if (!batch.isEmpty() && size > maxBytes) {
                break;
            }
            ready.pollFirst();
            batch.add(oldest);
        }
        return batch;
    }

    /**
     * Lets go of an event that was in flight (delivered or rejected) and makes its key's next event sendable.
     * The event still counts as held until {@link #release}, so that {@link #awaitEmpty} returns only once the
     * caller has counted it, or handed it to the rejection handler.
     *
     * @return false when the event was no longer held (the client gave up on it at close): do not count it
     */
    boolean settle(Pending p) {
        lock.lock();
        try {
            ArrayDeque<Pending> queue = byKey.get(p.key());
            if (queue == null || queue.peekFirst() != p) {
                return false;
            }
            queue.pollFirst();
            if (queue.isEmpty()) {
                byKey.remove(p.key());
            } else {
                ready.addLast(p.key());
                changed.signalAll();
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Stops counting events that were settled or drained. */
    void release(List<Pending> gone) {
        lock.lock();
        try {
            for (Pending p : gone) {
                events--;
                bytes -= p.size();
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** @return events held: buffered or in flight */
    int events() {
        lock.lock();
        try {
            return events;
        } finally {
            lock.unlock();
        }
    }

    /** @return true when nothing was held any more within the timeout */
    boolean awaitEmpty(long timeoutNanos) throws InterruptedException {
        lock.lock();
        try {
            for (long left = timeoutNanos; events > 0; left = changed.awaitNanos(left)) {
                if (left <= 0) {
                    return false;
                }
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** From now on {@link #put} refuses events; the senders go on with what is held. */
    void closeIntake() {
        lock.lock();
        try {
            intakeClosed = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** From now on {@link #take} answers an empty batch, so the senders stop. */
    void stop() {
        lock.lock();
        try {
            intakeClosed = true;
            stopped = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Removes and returns every event still held, in flight or not, oldest first per key; they count as held
     * until {@link #release}.
     */
    List<Pending> drain() {
        lock.lock();
        try {
            List<Pending> left = new ArrayList<>(events);
            byKey.values().forEach(left::addAll);
            byKey.clear();
            ready.clear();
            return left;
        } finally {
            lock.unlock();
        }
    }
}
