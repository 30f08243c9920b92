package dev.eventline.metrics;

/**
 * What admission control sees for one function ({@link FunctionLoad#view}).
 *
 * @param consuming whether some process reported progress for the function in the last 30 s (it has
 *                  consumers, even if their drain rate is not measured yet)
 * @param hottest   estimated events in the fullest partition, times the partition count: the depth the
 *                  function would have if every partition were that full. Partitions drain at about the same
 *                  rate each (one consumer, one call at a time), so the fullest one's wait is this over the
 *                  drain rate; hot keys make it longer than the average wait
 * @param reporting whether consumers of the function reported recently (within three intervals and 1 s):
 *                  there are consumers, whether or not their drain rate is measured
 * @param backlog   whether the last reading found a partition with at least a window (its consumer's, see
 *                  {@code AckWindow}) of events ready: that window is full and events queue behind it, so the
 *                  measured drain is what the consumers can take, not just what came
 * @param callSeconds the longest time per event its consumers reported (smoothed), 0 when none did
 * @param window    the largest window its consumers reported (see {@code AckWindow}), 0 when none did
 */
public record LoadView(long depth, double drainPerSecond, double lagSeconds, boolean consuming, long hottest,
        boolean reporting, boolean backlog, double callSeconds, int window) {

    public LoadView(long depth, double drainPerSecond, double lagSeconds, boolean consuming, long hottest,
            boolean reporting, boolean backlog) {
        this(depth, drainPerSecond, lagSeconds, consuming, hottest, reporting, backlog, 0, 0);
    }

    public LoadView(long depth, double drainPerSecond, double lagSeconds, boolean consuming) {
        this(depth, drainPerSecond, lagSeconds, consuming, depth);
    }

    public LoadView(long depth, double drainPerSecond, double lagSeconds, boolean consuming, long hottest) {
        this(depth, drainPerSecond, lagSeconds, consuming, hottest, consuming, false);
    }
}
