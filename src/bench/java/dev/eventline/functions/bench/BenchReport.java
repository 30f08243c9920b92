package dev.eventline.functions.bench;

/**
 * @param processed  events applied (each step once)
 * @param violations steps that were not the next one of their key (a gap or a reordering)
 * @param duplicates steps seen again (redeliveries)
 * @param keys       keys tracked
 * @param measured   events with a send time, whose latency (send to handler completion) was recorded
 * @param p50Ms      latency percentiles of those, ms (1 ms resolution)
 * @param p99Ms      see p50Ms
 * @param p999Ms     see p50Ms
 */
public record BenchReport(long processed, long violations, long duplicates, int keys, long measured, long p50Ms,
        long p99Ms, long p999Ms) {
}
