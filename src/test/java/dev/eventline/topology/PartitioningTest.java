package dev.eventline.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** A key's partition depends on the key and the count alone, spreads keys evenly, and moves few on growth. */
class PartitioningTest {

    @Test
    void aKeysPartitionIsFixedForGood() {
        // pinned: a change here moves every deployment's keys between partitions, reordering their events
        assertEquals(5, Partitioning.of("order-1", 8));
        assertEquals(6, Partitioning.of("order-2", 8));
        assertEquals(5, Partitioning.of("customer/åäö", 8));
        assertEquals(0, Partitioning.of("anything", 1));
        assertEquals("5", Partitioning.routingKey("order-1", 8));
    }

    @Test
    void keysSpreadEvenlyOverThePartitions() {
        int[] counts = new int[8];
        for (int k = 0; k < 80_000; k++) {
            counts[Partitioning.of("key-" + k, 8)]++;
        }
        for (int c : counts) {
            assertTrue(c > 9_000 && c < 11_000, "an even share is 10000: " + java.util.Arrays.toString(counts));
        }
    }

    @Test
    void growingByOnePartitionMovesAboutOneKeyInPPlusOne() {
        int moved = 0;
        for (int k = 0; k < 40_000; k++) {
            int before = Partitioning.of("key-" + k, 8);
            int after = Partitioning.of("key-" + k, 9);
            if (before != after) {
                moved++;
                assertEquals(8, after, "a key only ever moves to the new partition");
            }
        }
        assertTrue(moved > 3_800 && moved < 5_100, "about 40000/9 = 4444 keys move: " + moved);
    }

    @Test
    void aFunctionHasAtLeastOnePartition() {
        assertThrows(IllegalArgumentException.class, () -> Partitioning.of("k", 0));
    }
}
