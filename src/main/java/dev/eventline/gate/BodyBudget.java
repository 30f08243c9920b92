package dev.eventline.gate;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Heap the gate may spend on requests in hand, in bytes, across all of them: each request reserves what its
 * body will cost before it is read (or chunk by chunk, for a chunked body) and gives it back when it is
 * answered. A request that finds the budget spent gets {@code 503} with {@code Retry-After} at once, so many
 * large requests at the same time slow producers down instead of exhausting the heap. One request alone may
 * always proceed, whatever it costs.
 */
final class BodyBudget {

    /** Heap per byte of JSON text while it is a tree (Jackson's nodes; 1.3M empty objects in 4 MB take ~110 MB). */
    private static final int TREE_FACTOR = 32;
    /** The body as read, its copy for the parser, and the events encoded for the broker (up to a growing buffer's slack). */
    private static final int BYTES_FACTOR = 4;

    private final long capacity;
    private final int maxEventBytes;
    private final AtomicLong used = new AtomicLong();

    /** @param capacity bytes of heap for requests in hand */
    BodyBudget(long capacity, int maxEventBytes) {
        this.capacity = capacity;
        this.maxEventBytes = maxEventBytes;
    }

    /** Half the heap this process may grow to. */
    static BodyBudget ofHeap(int maxEventBytes) {
        return new BodyBudget(Runtime.getRuntime().maxMemory() / 2, maxEventBytes);
    }

    /**
     * What handling a body of this size costs at most: its bytes a few times over, and the tree of its largest
     * event (events are built one at a time; none is larger than {@code maxEventBytes}).
     */
    long cost(long bodyBytes) {
        return BYTES_FACTOR * bodyBytes + TREE_FACTOR * Math.min(bodyBytes, maxEventBytes);
    }

    /** @return whether the bytes were reserved (always, when nothing else is) */
    boolean tryReserve(long bytes) {
        for (long now = used.get();; now = used.get()) {
            if (now > 0 && now + bytes > capacity) {
                return false;
            }
            if (used.compareAndSet(now, now + bytes)) {
                return true;
            }
        }
    }

    void release(long bytes) {
        used.addAndGet(-bytes);
    }

    long used() {
        return used.get();
    }
}
