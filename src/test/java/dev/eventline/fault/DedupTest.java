package dev.eventline.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

/** The dedup window forgets by age and by count, and can be turned off. */
class DedupTest {

    private final AtomicLong now = new AtomicLong();

    @Test
    void remembersIdsForTheWindowOnly() {
        Dedup dedup = new Dedup(true, Duration.ofSeconds(10), 100, now::get);
        dedup.record(Dedup.key("/s", "a"));
        now.addAndGet(Duration.ofSeconds(6).toNanos());
        dedup.record(Dedup.key("/s", "b"));
        assertTrue(dedup.seen(Dedup.key("/s", "a")));
        assertFalse(dedup.seen(Dedup.key("/other", "a")), "ids are unique per source");
        now.addAndGet(Duration.ofSeconds(5).toNanos());
        assertFalse(dedup.seen(Dedup.key("/s", "a")), "older than the window");
        assertTrue(dedup.seen(Dedup.key("/s", "b")));
        assertEquals(1, dedup.size());
    }

    @Test
    void forgetsTheOldestBeyondItsCapacity() {
        Dedup dedup = new Dedup(true, Duration.ofHours(1), 3, now::get);
        for (String id : new String[] {"a", "b", "c", "d"}) {
            dedup.record(Dedup.key("/s", id));
        }
        assertEquals(3, dedup.size());
        assertFalse(dedup.seen(Dedup.key("/s", "a")));
        assertTrue(dedup.seen(Dedup.key("/s", "d")));
    }

    @Test
    void disabledRemembersNothing() {
        Dedup dedup = new Dedup(false, Duration.ofHours(1), 3, now::get);
        dedup.record(Dedup.key("/s", "a"));
        assertFalse(dedup.seen(Dedup.key("/s", "a")));
    }
}
