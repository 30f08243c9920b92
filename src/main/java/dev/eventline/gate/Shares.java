package dev.eventline.gate;

import java.util.HashMap;
import java.util.Map;

/**
 * Each producer's share of the events asked of this gate recently (a sliding window of 10 one-second
 * buckets), so that under pressure the producer taking more than its fair share is throttled first and a
 * flood from one producer cannot crowd out the others. Bounded: producers silent for the whole window are
 * forgotten.
 */
final class Shares {

    private static final int BUCKETS = 10;
    /** Tolerance over an exact fair share before a producer counts as flooding. */
    private static final double SLACK = 1.25;

    private final Map<String, long[]> counts = new HashMap<>();
    private long bucketSecond = -1;

    synchronized void record(String producer, int events, long nowMillis) {
        advance(nowMillis);
        counts.computeIfAbsent(producer, k -> new long[BUCKETS])[(int) (bucketSecond % BUCKETS)] += events;
    }

    /** @return whether the producer took more than its fair share (1 / active producers) of the window */
    synchronized boolean overShare(String producer, long nowMillis) {
        advance(nowMillis);
        if (counts.size() < 2) {
            return false;
        }
        long total = 0;
        long mine = 0;
        for (Map.Entry<String, long[]> e : counts.entrySet()) {
            long sum = 0;
            for (long c : e.getValue()) {
                sum += c;
            }
            total += sum;
            if (e.getKey().equals(producer)) {
                mine = sum;
            }
        }
        return total > 0 && mine > SLACK * total / counts.size();
    }

    private void advance(long nowMillis) {
        long second = nowMillis / 1000;
        if (bucketSecond < 0) {
            bucketSecond = second;
            return;
        }
        for (long s = bucketSecond + 1; s <= second && s <= bucketSecond + BUCKETS; s++) {
            int slot = (int) (s % BUCKETS);
            counts.values().forEach(c -> c[slot] = 0);
        }
        if (second > bucketSecond) {
            bucketSecond = second;
            counts.values().removeIf(c -> java.util.Arrays.stream(c).allMatch(v -> v == 0));
        }
    }
}
