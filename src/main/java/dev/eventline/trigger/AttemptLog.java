package dev.eventline.trigger;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What this process did with events it has not finished, so an event redelivered to the same process (its
 * channel went down mid-handling) resumes exactly: the failed attempts made so far, or the fact that the event
 * was already copied out (to the dead-letter queue or a delay queue) with a given attempt count, so the stale
 * original is acked instead of being handled again. Entries go when the event is settled on a live channel;
 * the map is bounded (events left behind by a lost connection are normally redelivered here and cleared, but
 * a bound keeps that from mattering).
 */
final class AttemptLog {

    private static final int MAX = 10_000;

    private record Entry(int attempts, boolean copiedOut) {
    }

    private final Map<String, Entry> entries = new ConcurrentHashMap<>();

    /** @return failed attempts this process made on the event, 0 when none */
    int get(String key) {
        Entry e = entries.get(key);
        return e == null ? 0 : e.attempts;
    }

    /**
     * @param redelivered the broker's redelivered flag: set on the original given back after its channel
     *                    closed; never on a fresh copy (back from a delay queue, or replayed)
     * @return whether this delivery is an original whose copy was already sent on
     */
    boolean isStaleOriginal(String key, boolean redelivered) {
        Entry e = entries.get(key);
        if (e == null || !e.copiedOut) {
            return false;
        }
        entries.remove(key);
        return redelivered;
    }

    void failed(String key, int attempt) {
        put(key, new Entry(attempt, false));
    }

    /** The event was copied to a dead-letter or delay queue with these attempts, but the original not acked. */
    void copiedOut(String key, int attempts) {
        put(key, new Entry(attempts, true));
    }

    void forget(String key) {
        entries.remove(key);
    }

    private void put(String key, Entry e) {
        if (entries.size() < MAX || entries.containsKey(key)) {
            entries.put(key, e);
        }
    }
}
