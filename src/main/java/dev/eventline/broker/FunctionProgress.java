package dev.eventline.broker;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * How far one function's consumers in this process have got: events that left their partitions (acked:
 * processed, skipped, delayed or dead-lettered), and the gate-acceptance time of each event in hand. The
 * oldest event in hand is the oldest unprocessed event of the partitions this process is active on, since
 * a partition hands out its head first.
 */
public final class FunctionProgress {

    private final LongAdder completed = new LongAdder();
    private final Map<String, Long> inHand = new ConcurrentHashMap<>();

    /** @param acceptedAtMillis when the gate accepted the event (0 when unknown: counted as now) */
    public void started(String partition, long acceptedAtMillis) {
        inHand.put(partition, acceptedAtMillis > 0 ? acceptedAtMillis : System.currentTimeMillis());
    }

    public void finished(String partition) {
        inHand.remove(partition);
    }

    public void completed() {
        completed.increment();
    }

    public long completedTotal() {
        return completed.sum();
    }

    /** @return acceptance time of the oldest event in hand, or 0 when none is */
    public long oldestInHand() {
        return inHand.values().stream().mapToLong(Long::longValue).min().orElse(0);
    }

    /** @return age of the oldest event in hand, seconds; 0 when none is */
    public double lagSeconds(long nowMillis) {
        long oldest = oldestInHand();
        return oldest == 0 ? 0 : Math.max(0, nowMillis - oldest) / 1000.0;
    }
}
