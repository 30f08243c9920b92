package dev.eventline.functions.notifications;

import java.util.Iterator;
import java.util.LinkedHashSet;

/**
 * The ids of the latest requests, oldest forgotten first, bounded by count and by estimated bytes (2 a
 * character plus {@value #ID_BYTES} an id).
 */
final class RecentIds {

    /** Estimated heap of one id besides its characters: set entry and string header. */
    static final long ID_BYTES = 80;

    private final LinkedHashSet<String> ids = new LinkedHashSet<>();
    private final int maxCount;
    private final long maxBytes;
    private long bytes;

    RecentIds(int maxCount, long maxBytes) {
        this.maxCount = maxCount;
        this.maxBytes = maxBytes;
    }

    static long cost(String id) {
        return ID_BYTES + 2L * id.length();
    }

    /** @return false when the id is remembered already (an id larger than the whole budget is never remembered) */
    synchronized boolean add(String id) {
        if (ids.contains(id)) {
            return false;
        }
        if (cost(id) > maxBytes) {
            return true;
        }
        for (Iterator<String> oldest = ids.iterator(); oldest.hasNext() && (ids.size() >= maxCount
                || bytes + cost(id) > maxBytes);) {
            bytes -= cost(oldest.next());
            oldest.remove();
        }
        ids.add(id);
        bytes += cost(id);
        return true;
    }

    synchronized void remove(String id) {
        if (ids.remove(id)) {
            bytes -= cost(id);
        }
    }

    synchronized long bytes() {
        return bytes;
    }
}
