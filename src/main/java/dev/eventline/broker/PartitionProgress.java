package dev.eventline.broker;

import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * One partition as the process that owns it reports it ({@link ProgressReport#partitions}).
 *
 * @param index        the partition's index
 * @param oldestInHand gate-acceptance time (epoch ms) of its oldest event not yet settled, 0 when none is in hand
 * @param window       events its consumer lets the broker deliver ahead of their call (0: not measured yet)
 * @param callMicros   its smoothed time per event, µs (0: not measured yet)
 * @param blocked      its event waits for room in the function's full dead-letter queue
 */
@RegisterForReflection // written and read by Jackson on the status exchange, also in a native image
public record PartitionProgress(int index, long oldestInHand, int window, long callMicros, boolean blocked) {
}
