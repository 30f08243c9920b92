package dev.eventline.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

/** The dedup window forgets by age, by count and by bytes, and can be turned off. */
class DedupTest {

    private static final long PLENTY = 1L << 30;
    private final AtomicLong now = new AtomicLong();

    @Test
    void remembersIdsForTheWindowOnly() {
        Dedup dedup = new Dedup(true, Duration.ofSeconds(10), 100, PLENTY, now::get);
        dedup.record(Dedup.key("/s", "a"));
        now.addAndGet(Duration.ofSeconds(6).toNanos());
        dedup.record(Dedup.key("/s", "b"));
        assertTrue(dedup.seen(Dedup.key("/s", "a")));
        assertFalse(dedup.seen(Dedup.key("/other", "a")), "ids are unique per source");
        now.addAndGet(Duration.ofSeconds(5).toNanos());
        assertFalse(dedup.seen(Dedup.key("/s", "a")), "older than the window");
        assertTrue(dedup.seen(Dedup.key("/s", "b")));
        assertEquals(1, dedup.size());
        assertEquals(Dedup.cost(Dedup.key("/s", "b")), dedup.bytes(), "an expired id no longer counts");
    }

    @Test
    void forgetsTheOldestBeyondItsCapacity() {
        Dedup dedup = new Dedup(true, Duration.ofHours(1), 3, PLENTY, now::get);
        for (String id : new String[] {"a", "b", "c", "d"}) {
            dedup.record(Dedup.key("/s", id));
        }
        assertEquals(3, dedup.size());
        assertFalse(dedup.seen(Dedup.key("/s", "a")));
        assertTrue(dedup.seen(Dedup.key("/s", "d")));
    }

    @Test
    void forgetsTheOldestBeyondItsBytesWhateverTheIdsLength() {
        long max = 10_000;
        Dedup dedup = new Dedup(true, Duration.ofHours(1), 1_000_000, max, now::get);
        String big = "x".repeat(2_000); // 4,096 bytes an id with its entry: two fit, a third pushes the oldest out
        for (int i = 0; i < 50; i++) {
            dedup.record(Dedup.key("/s", big + i));
            assertTrue(dedup.bytes() <= max, dedup.bytes() + " bytes after " + (i + 1) + " ids");
        }
        assertEquals(2, dedup.size());
        assertEquals(2 * Dedup.cost(Dedup.key("/s", big + 49)), dedup.bytes());
        assertTrue(dedup.seen(Dedup.key("/s", big + 49)));
        assertFalse(dedup.seen(Dedup.key("/s", big + 47)));
        for (int i = 0; i < 100; i++) { // small ids fill the room the big ones leave
            dedup.record(Dedup.key("/s", "small-" + i));
        }
        assertTrue(dedup.bytes() <= max, String.valueOf(dedup.bytes()));
        assertEquals(dedup.size() * Dedup.cost(Dedup.key("/s", "small-10")), dedup.bytes());
    }

    @Test
    void anIdLargerThanTheWholeBudgetIsNotRememberedAndEvictsNothing() {
        Dedup dedup = new Dedup(true, Duration.ofHours(1), 100, 4_096, now::get);
        dedup.record(Dedup.key("/s", "a"));
        String huge = Dedup.key("/s", "y".repeat(8 * 1024 * 1024));
        dedup.record(huge);
        assertFalse(dedup.seen(huge));
        assertTrue(dedup.seen(Dedup.key("/s", "a")));
        assertEquals(Dedup.cost(Dedup.key("/s", "a")), dedup.bytes());
    }

    @Test
    void recordingAnIdAgainCountsItOnce() {
        Dedup dedup = new Dedup(true, Duration.ofHours(1), 100, PLENTY, now::get);
        dedup.record(Dedup.key("/s", "a"));
        dedup.record(Dedup.key("/s", "a"));
        assertEquals(1, dedup.size());
        assertEquals(Dedup.cost(Dedup.key("/s", "a")), dedup.bytes());
    }

    @Test
    void disabledRemembersNothing() {
        Dedup dedup = new Dedup(false, Duration.ofHours(1), 3, PLENTY, now::get);
        dedup.record(Dedup.key("/s", "a"));
        assertFalse(dedup.seen(Dedup.key("/s", "a")));
        assertEquals(0, dedup.bytes());
    }
}
