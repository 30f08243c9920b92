package dev.eventline.topology;

import java.util.List;
import java.util.stream.IntStream;

/**
 * Every broker name, in one place. With prefix {@code p} (empty by default) and function {@code fn}:
 * <ul>
 * <li>{@code p<fn>}: the function's {@code direct} exchange; the gate publishes here with the partition's
 * index as routing key ({@link Partitioning});</li>
 * <li>{@code p<fn>-<i>}, i = 0..P-1: partition queues (quorum, single active consumer), bound with key {@code i};</li>
 * <li>{@code p<fn>.dlx}: the dead-letter exchange (fanout);</li>
 * <li>{@code p<fn>.dlq}: the dead-letter queue bound to it;</li>
 * <li>parked retry mode only, created and deleted by the partition's owner: {@code p<fn>.parking}, a direct
 * exchange that routes to the following by their names; {@code p<fn>-<i>.held}, the partition's
 * held keys (one message, the newest replacing the last), and {@code p<fn>-<i>.parked.<h>}, the parked events of
 * one held key ({@code h} a hash of the key);</li>
 * <li>relaxed retry mode only: {@code p<fn>.retry}, a headers exchange, and delay queues {@code p<fn>.retry-<k>}
 * (k = 1..levels) that hold a failed event for its backoff and then dead-letter it back to its partition.</li>
 * </ul>
 * Terraform creates these names from terraform/topology.json, which is written with {@code new Names("")}
 * and prefixed by the module.
 */
public record Names(String prefix) {

    public String exchange(String fn) {
        return prefix + fn;
    }

    public String partition(String fn, int index) {
        return prefix + fn + "-" + index;
    }

    public List<String> partitions(String fn, int count) {
        return IntStream.range(0, count).mapToObj(i -> partition(fn, i)).toList();
    }

    public String deadLetterExchange(String fn) {
        return prefix + fn + ".dlx";
    }

    public String deadLetterQueue(String fn) {
        return prefix + fn + ".dlq";
    }

    /**
     * The status exchange (fanout, not durable): every process running functions publishes their progress
     * here on an interval; every gate reads it to know drain rates and lag without asking the broker per
     * request.
     */
    public String statusExchange() {
        return prefix + "eventline.status";
    }

    /**
     * The lock of partition {@code index}: an exclusive, auto-deleted queue that the instance owning the
     * partition holds on its ownership connection. The broker refuses it to anyone else and deletes it when
     * that connection ends, so ownership needs no coordinator besides RabbitMQ.
     */
    public String partitionLock(String fn, int index) {
        return prefix + fn + "-" + index + ".owner";
    }

    /**
     * While this queue exists, gates refuse the function's events (503 with Retry-After): intake is paused,
     * e.g. to change the partition count. It holds nothing ({@code x-max-length} 0); its existence is the flag.
     */
    public String pauseMarker(String fn) {
        return prefix + fn + ".paused";
    }

    /**
     * Parked mode: the direct exchange parked events and held-key lists are published to, each queue bound with
     * its own name (publishing to the default exchange needs a grant on {@code amq.default}, which a prefixed
     * user's regexes cannot give).
     */
    public String parkingExchange(String fn) {
        return prefix + fn + ".parking";
    }

    /** Parked mode: the partition's held keys, one message (a quorum queue of length 1, the newest kept). */
    public String heldKeys(String fn, int index) {
        return partition(fn, index) + ".held";
    }

    /** Parked mode: a copy of {@link #heldKeys} for operators (reading takes the message for a moment). */
    public String heldKeysView(String fn, int index) {
        return partition(fn, index) + ".held-view";
    }

    /**
     * Parked mode: the queue holding the parked events of one held key of a partition, named by the first 128
     * bits of the key's SHA-256 (keys are the producers' text, of any length and characters).
     */
    public String parkedEvents(String fn, int index, String key) {
        try {
            byte[] hash = java.security.MessageDigest.getInstance("SHA-256")
                    .digest(key.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return partition(fn, index) + ".parked." + java.util.HexFormat.of().formatHex(hash, 0, 16);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }

    public String retryExchange(String fn) {
        return prefix + fn + ".retry";
    }

    /** @param level 1-based delay level */
    public String delayQueue(String fn, int level) {
        return prefix + fn + ".retry-" + level;
    }

    /** @return the function's relaxed-mode delay queues, by level; none in strict mode */
    public List<String> delayQueues(dev.eventline.config.FunctionDescription fn) {
        if (fn.retry().mode() != dev.eventline.config.FunctionDescription.RetryMode.RELAXED) {
            return List.of();
        }
        return IntStream.rangeClosed(1, fn.retry().delayLevels()).mapToObj(level -> delayQueue(fn.name(), level))
                .toList();
    }
}
