package dev.eventline.config;

import java.time.Duration;
import java.util.List;

/**
 * One deployable function, as described once in {@code functions/<name>/function.yaml}. The runtime reads that
 * file, and the deployment files (manifests, Terraform's topology.json) are generated from this record, its
 * validated form.
 *
 * @param name        function name: words of lower-case letters and digits joined by '-' (not ending in
 *                    {@code -<digits>}), the stem of every broker name ({@link DescriptionParser#nameProblem})
 * @param source      where the description came from (file or classpath resource), for error messages
 * @param eventTypes  CloudEvent types this function owns; each type is owned by exactly one function
 * @param partitions  number of partition queues (P), 1..256
 * @param concurrency handler calls in flight at once in one instance, 1..partitions
 * @param timeout     limit on one handler call
 * @param prefetch    deliveries a partition's consumer holds at once (its window), keyConcurrency..1000
 * @param keyConcurrency handler calls at once in one partition, never two of the same partition key, 1..256; at 1
 *                    calls are one at a time per partition, in queue order
 * @param retry       retry budget and backoff
 * @param limits      depth and lag limits
 * @param dedup       duplicate suppression by event id
 */
public record FunctionDescription(String name, String source, List<String> eventTypes, int partitions,
        int concurrency, Duration timeout, int prefetch, int keyConcurrency, Retry retry, Limits limits, Dedup dedup) {

    /** Where a failed event waits for its next attempt. */
    public enum RetryMode {
        /** in place: the partition waits, so no later event of the same key overtakes the failed one */
        STRICT,
        /** in a delay queue: the partition moves on, later events of the key may overtake the failed one */
        RELAXED,
        /**
         * in place, with key concurrency: only the failed event's key waits; its later events are parked outside
         * the window, in a queue of the key's own, and come back in order once it is done
         */
        PARKED
    }

    /**
     * @param maxAttempts  handler calls per event before it is dead-lettered (1 = no retry)
     * @param initialDelay wait before the second attempt
     * @param multiplier   growth of the wait per attempt (exponential backoff, with jitter)
     * @param maxDelay     cap on one wait
     * @param mode         strict (retry in place), relaxed (retry from a delay queue) or parked (retry in place,
     *                     only the key waits)
     * @param nonRetryable exception class names (a class or any subclass) that dead-letter at once
     * @param holdAfterDeadLetter parked mode: whether a key whose event was dead-lettered stays held (its later
     *                     events parked) until an operator replays or purges that dead letter
     */
    public record Retry(int maxAttempts, Duration initialDelay, double multiplier, Duration maxDelay,
            RetryMode mode, List<String> nonRetryable, boolean holdAfterDeadLetter) {

        /** @return the wait before attempt {@code failedAttempts + 1}, before jitter */
        public Duration delayAfter(int failedAttempts) {
            double base = initialDelay.toMillis() * Math.pow(multiplier, Math.max(0, failedAttempts - 1));
            return Duration.ofMillis((long) Math.min(maxDelay.toMillis(), base));
        }

        /**
         * Delay levels of relaxed mode: level k (1-based) holds events after their k-th failure, for
         * {@link #delayAfter(int) delayAfter(k)}. Levels stop growing once the delay reaches its cap.
         */
        public int delayLevels() {
            int levels = 1;
            while (levels < maxAttempts - 1 && delayAfter(levels).compareTo(delayAfter(levels + 1)) < 0) {
                levels++;
            }
            return levels;
        }
    }

    /**
     * @param enabled    whether the trigger skips an event whose id it already processed
     * @param window     how long a processed id is remembered
     * @param maxEntries how many ids are remembered at most (the oldest are forgotten first)
     * @param maxBytes   estimated bytes of the remembered ids at most, 2 a character plus 96 an id (the oldest are
     *                   forgotten first)
     */
    public record Dedup(boolean enabled, Duration window, int maxEntries, long maxBytes) {
    }

    /**
     * @param depthSoft        events queued (sum over partitions) above which the gate delays producers
     * @param depthHard        events queued above which the gate rejects producers
     * @param depthCeiling     broker-side cap (sum over partitions; each partition gets ceil(ceiling / P)),
     *                         enforced with {@code x-max-length} and overflow {@code reject-publish}
     * @param lagSoftSeconds   consumer lag (seconds) above which the gate delays producers
     * @param lagHardSeconds   consumer lag (seconds) above which the gate rejects producers
 * @param latencyTarget    the queueing delay the gate aims at for admitted events: above it, it delays
 *                         producers (and past {@code eventline.gate.max-delay} answers 429)
     * @param deadLetterMax    cap on the dead-letter queue's length
     * @param deadLetterWarn   fraction of {@code deadLetterMax} above which a warning is logged and exported
     */
    public record Limits(long depthSoft, long depthHard, long depthCeiling, long lagSoftSeconds, long lagHardSeconds,
            long deadLetterMax, double deadLetterWarn, Duration latencyTarget) {
    }

    /** @return this description with another partition count (concurrency capped to it) */
    public FunctionDescription withPartitions(int count) {
        return new FunctionDescription(name, source, eventTypes, count, Math.min(concurrency, count), timeout,
                prefetch, keyConcurrency, retry, limits, dedup);
    }

    /** @return this description with another window per partition (calls at once capped to it) */
    public FunctionDescription withPrefetch(int window) {
        return new FunctionDescription(name, source, eventTypes, partitions, concurrency, timeout, window,
                Math.min(keyConcurrency, window), retry, limits, dedup);
    }

    /** @return whether a partition runs calls of different keys at once ({@code keyConcurrency} above 1) */
    public boolean keyed() {
        return keyConcurrency > 1;
    }

    /** @return whether a failing key's later events are parked outside the window ({@code retry.mode: parked}) */
    public boolean parked() {
        return retry.mode() == RetryMode.PARKED;
    }

    /** @return the broker-side {@code x-max-length} of one partition queue */
    public long partitionMaxLength() {
        return (limits.depthCeiling() + partitions - 1) / partitions;
    }
}
