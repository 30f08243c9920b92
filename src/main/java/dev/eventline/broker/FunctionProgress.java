package dev.eventline.broker;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * How far one function's consumers in this process have got: events that left their partitions (acked:
 * processed, skipped, delayed or dead-lettered), per partition the gate-acceptance time of its oldest event
 * not yet settled (the one in hand: events settle in queue order), and each partition's window and time per
 * event. Since a partition hands out its head first and its consumer's window holds the events after it,
 * that is the oldest event of the partition not yet done: with a backlog the window is full, so the lag it
 * gives is the queue's, not the age of whatever happens to be in hand.
 */
public final class FunctionProgress {

    private final LongAdder completed = new LongAdder();
    private final Map<String, Long> inHand = new ConcurrentHashMap<>();
    private final Map<String, Window> windows = new ConcurrentHashMap<>();
    /** Partitions whose events wait for room in the full dead-letter queue: how many wait (key concurrency). */
    private final Map<String, Integer> blocked = new ConcurrentHashMap<>();

    private record Window(int events, double callNanos) {
    }

    /** @param acceptedAtMillis when the gate accepted the partition's oldest unacked event (0: counted as now) */
    public void started(String partition, long acceptedAtMillis) {
        inHand.put(partition, acceptedAtMillis > 0 ? acceptedAtMillis : System.currentTimeMillis());
    }

    public void finished(String partition) {
        inHand.remove(partition);
    }

    /**
     * The partition's consumer lets this many events be delivered and not yet settled (its adaptive window),
     * and takes this long per event (smoothed; 0 while not measured).
     */
    public void window(String partition, int events, double callNanos) {
        windows.put(partition, new Window(events, callNanos));
    }

    /** The partition is no longer this process's: nothing of it is in hand here. */
    public void released(String partition) {
        inHand.remove(partition);
        windows.remove(partition);
        blocked.remove(partition);
    }

    /**
     * An event of the partition waits (true) or no longer waits (false) for room in the full dead-letter queue;
     * the partition counts as blocked while any does.
     */
    public void blocked(String partition, boolean waiting) {
        blocked.compute(partition, (p, n) -> {
            int now = (n == null ? 0 : n) + (waiting ? 1 : -1);
            return now > 0 ? now : null;
        });
    }

    /** @return what this process knows of one partition it runs, for the operator console */
    public PartitionProgress partition(int index, String partition) {
        Window w = windows.get(partition);
        return new PartitionProgress(index, inHand.getOrDefault(partition, 0L), w == null ? 0 : w.events(),
                w == null ? 0 : (long) Math.ceil(w.callNanos() / 1000), blocked.containsKey(partition));
    }

    /** @return the largest window among this process's partitions of the function, 0 when none is known */
    public int window() {
        return windows.values().stream().mapToInt(Window::events).max().orElse(0);
    }

    /** @return the longest time per event among this process's partitions of the function, µs; 0 when unknown */
    public long callMicros() {
        return (long) Math.ceil(windows.values().stream().mapToDouble(Window::callNanos).max().orElse(0) / 1000);
    }

    public void completed(int events) {
        completed.add(events);
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
