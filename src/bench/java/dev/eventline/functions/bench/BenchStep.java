package dev.eventline.functions.bench;

/**
 * One benchmark event: step {@code step} (1, 2, 3, …) of entity {@code key}; {@code sentAtMs}, when not 0,
 * is when the producer sent it (epoch ms), for the latency histogram. {@code fault}, for the fault matrix:
 * {@code poison} fails for good (dead-lettered), {@code hang} blocks the call for {@code hangMs} (ignoring
 * interruption) the first time this process sees the step, then succeeds; absent for everything else.
 * {@code failUntilMs}, when not 0: every call fails (to be retried) until then (epoch ms).
 */
public record BenchStep(String key, long step, long sentAtMs, String fault, long hangMs, long failUntilMs) {
}
