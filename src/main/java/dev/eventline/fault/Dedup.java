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
 * Bounded twice: an id is forgotten after {@code window}, and beyond {@code maxEntries} the oldest go first.
 * It lives in memory: a restarted process, or another instance taking over a partition, starts empty, so a
 * handler whose effects live outside the process still needs its own idempotency for those cases.
 */
public final class Dedup {

    private final boolean enabled;
    private final long windowNanos;
    private final int maxEntries;
    private final LongSupplier clock;
    private final LinkedHashMap<String, Long> seen = new LinkedHashMap<>();

    public Dedup(FunctionDescription.Dedup settings) {
        this(settings.enabled(), settings.window(), settings.maxEntries(), System::nanoTime);
    }

    Dedup(boolean enabled, Duration window, int maxEntries, LongSupplier clock) {
        this.enabled = enabled;
        this.windowNanos = window.toNanos();
        this.maxEntries = maxEntries;
        this.clock = clock;
    }

    /** CloudEvents ids are unique per source, so the key is both. */
    public static String key(String source, String id) {
        return source + "\u0000" + id;
    }

    /** @return whether this event was processed within the window */
    public synchronized boolean seen(String key) {
        if (!enabled) {
            return false;
        }
        expire();
        return seen.containsKey(key);
    }

    /** Remembers a processed event. */
    public synchronized void record(String key) {
        if (!enabled) {
            return;
        }
        seen.remove(key); // re-insert at the young end
        seen.put(key, clock.getAsLong());
        expire();
        while (seen.size() > maxEntries) {
            Iterator<String> oldest = seen.keySet().iterator();
            oldest.next();
            oldest.remove();
        }
    }

    public synchronized int size() {
        return seen.size();
    }

    private void expire() {
        long now = clock.getAsLong();
        for (Iterator<Map.Entry<String, Long>> it = seen.entrySet().iterator(); it.hasNext();) {
            if (now - it.next().getValue() <= windowNanos) {
                return; // insertion order: the rest are younger
            }
            it.remove();
        }
    }
}
