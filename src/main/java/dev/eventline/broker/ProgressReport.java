package dev.eventline.broker;

import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * One process's progress on one function, as published on the status exchange.
 *
 * @param function     the function
 * @param instance     the reporting process (instance id)
 * @param completed    events its consumers took off their partitions since they started (monotonic)
 * @param oldestInHand gate-acceptance time (epoch ms) of the oldest event in hand, 0 when none
 * @param at           when the report was made (epoch ms)
 * @param owned        partitions the process owns
 * @param leaving      the process is stopping: peers stop counting it at once
 * @param window       the largest window of its partitions: events a consumer lets the broker deliver ahead of
 *                     their call, the call in progress included (0: not known, e.g. from an older version)
 * @param callMicros   the longest smoothed time per event among its partitions, µs (0: not measured yet)
 * @param partitions   each partition it owns (null from an older version)
 */
@RegisterForReflection // written and read by Jackson on the status exchange, also in a native image
public record ProgressReport(String function, String instance, long completed, long oldestInHand, long at,
        int owned, boolean leaving, int window, long callMicros, java.util.List<PartitionProgress> partitions) {

    public ProgressReport(String function, String instance, long completed, long oldestInHand, long at, int owned,
            boolean leaving, int window, long callMicros) {
        this(function, instance, completed, oldestInHand, at, owned, leaving, window, callMicros, null);
    }
}
