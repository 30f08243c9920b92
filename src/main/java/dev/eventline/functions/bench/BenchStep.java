package dev.eventline.functions.bench;

/**
 * One benchmark event: step {@code step} (1, 2, 3, …) of entity {@code key}; {@code sentAtMs}, when not 0,
 * is when the producer sent it (epoch ms), for the latency histogram.
 */
public record BenchStep(String key, long step, long sentAtMs) {
}
