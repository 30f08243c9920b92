package dev.eventline.config;

import java.time.Duration;
import java.util.List;

/**
 * One deployable function, as described once in {@code functions/<name>/function.yaml}. The runtime, the
 * Terraform module and the deployment manifests all read that file; this record is its validated form.
 *
 * @param name        function name: lower-case letters, digits and '-', the stem of every broker name
 * @param source      where the description came from (file or classpath resource), for error messages
 * @param eventTypes  CloudEvent types this function owns; each type is owned by exactly one function
 * @param partitions  number of partition queues (P), 1..256
 * @param concurrency handler calls in flight at once in one instance, 1..partitions
 * @param timeout     limit on one handler call
 * @param retry       retry budget and backoff
 * @param limits      depth and lag limits
 */
public record FunctionDescription(String name, String source, List<String> eventTypes, int partitions,
        int concurrency, Duration timeout, Retry retry, Limits limits) {

    /**
     * @param maxAttempts  handler calls per event before it is dead-lettered (1 = no retry)
     * @param initialDelay wait before the second attempt
     * @param multiplier   growth of the wait per attempt (exponential backoff, with jitter)
     * @param maxDelay     cap on one wait
     */
    public record Retry(int maxAttempts, Duration initialDelay, double multiplier, Duration maxDelay) {
    }

    /**
     * @param depthSoft        events queued (sum over partitions) above which the gate delays producers
     * @param depthHard        events queued above which the gate rejects producers
     * @param depthCeiling     broker-side cap (sum over partitions; each partition gets ceil(ceiling / P)),
     *                         enforced with {@code x-max-length} and overflow {@code reject-publish}
     * @param lagSoftSeconds   consumer lag (seconds) above which the gate delays producers
     * @param lagHardSeconds   consumer lag (seconds) above which the gate rejects producers
     * @param deadLetterMax    cap on the dead-letter queue's length
     */
    public record Limits(long depthSoft, long depthHard, long depthCeiling, long lagSoftSeconds, long lagHardSeconds,
            long deadLetterMax) {
    }

    /** @return the broker-side {@code x-max-length} of one partition queue */
    public long partitionMaxLength() {
        return (limits.depthCeiling() + partitions - 1) / partitions;
    }
}
