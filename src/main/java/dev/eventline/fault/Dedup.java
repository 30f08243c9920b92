package dev.eventline.fault;

import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

import dev.eventline.config.FunctionDescription;

/**
 * The event ids one function processed recently in this process, to skip redelivered copies (after a lost
 * connection, a producer's retry of an accepted request, a replay of an event that had in fact succeeded).
 * Bounded three times: an id is forgotten after {@code window}, and beyond {@code maxEntries} ids or
 * {@code maxBytes} of them (estimated, see {@link #cost}) the oldest go first; an id larger than {@code maxBytes}
 * on its own is not remembered. It lives in memory: a restarted process, or another instance taking over a
 * partition, starts empty, so a handler whose effects live outside the process still needs its own idempotency
 * for those cases.
 */
public final class Dedup {

    /** Estimated heap of one remembered id besides its characters: map entry, time stamp, string header. */
    static final long ENTRY_BYTES = 96;

    private final boolean enabled;
    private final long windowNanos;
    private final int maxEntries;
    private final long maxBytes;
    private final LongSupplier clock;
    private final LinkedHashMap<String, Long> seen = new LinkedHashMap<>();
    private long bytes;

    public Dedup(FunctionDescription.Dedup settings) {
        this(settings.enabled(), settings.window(), settings.maxEntries(), settings.maxBytes(), System::nanoTime);
    }

    Dedup(boolean enabled, Duration window, int maxEntries, long maxBytes, LongSupplier clock) {
        this.enabled = enabled;
        this.windowNanos = window.toNanos();
        this.maxEntries = maxEntries;
        this.maxBytes = maxBytes;
        this.clock = clock;
    }

    /** CloudEvents ids are unique per source, so the key is both. */
    public static String key(String source, String id) {
        return source + "\u0000" + id;
    }

    /** @return the estimated heap bytes of remembering this key: 2 a character (UTF-16) plus {@link #ENTRY_BYTES} */
    static long cost(String key) {
        return ENTRY_BYTES + 2L * key.length();
    }

    /** @return whether this event was processed within the window */
    public synchronized boolean seen(String key) {
        if (!enabled) {
            return false;
        }
        expire();
        return seen.containsKey(key);
    }

    /** Remembers a processed event, unless it alone exceeds {@code maxBytes}. */
    public synchronized void record(String key) {
        if (!enabled) {
            return;
        }
        forget(key); // re-inserted at the young end
        expire();
        long cost = cost(key);
        if (cost > maxBytes) {
            return;
        }
        while (!seen.isEmpty() && (seen.size() >= maxEntries || bytes + cost > maxBytes)) {
            forget(seen.keySet().iterator().next());
        }
        seen.put(key, clock.getAsLong());
        bytes += cost;
    }

    public synchronized int size() {
        return seen.size();
    }

    /** @return the estimated bytes of the remembered ids, at most {@code maxBytes} */
    public synchronized long bytes() {
        return bytes;
    }

    private void forget(String key) {
        if (seen.remove(key) != null) {
            bytes -= cost(key);
        }
    }

    private void expire() {
        long now = clock.getAsLong();
        for (Iterator<Map.Entry<String, Long>> it = seen.entrySet().iterator(); it.hasNext();) {
            Map.Entry<String, Long> oldest = it.next();
            if (now - oldest.getValue() <= windowNanos) {
                return; // insertion order: the rest are younger
            }
            it.remove();
            bytes -= cost(oldest.getKey());
        }
    }
}
