package dev.eventline.topology;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.eventline.config.FunctionDescription;

/**
 * The exchanges, queues and bindings one function needs, derived from its description alone. The runtime
 * declares or verifies exactly this; tests compare other renderings of the topology (Terraform) against it.
 */
public record TopologySpec(List<Exchange> exchanges, List<Queue> queues, List<Binding> bindings) {

    public record Exchange(String name, String type) {
    }

    public record Queue(String name, Map<String, Object> arguments) {
    }

    /** @param arguments binding arguments (headers exchanges match on them), empty for the others */
    public record Binding(String exchange, String queue, String routingKey, Map<String, Object> arguments) {

        Binding(String exchange, String queue, String routingKey) {
            this(exchange, queue, routingKey, Map.of());
        }
    }

    /** Header on an event waiting in relaxed mode: which delay level (queue) holds it. */
    public static final String DELAY_LEVEL = "eventline-delay-level";

    public static TopologySpec of(FunctionDescription fn, Names names) {
        String exchange = names.exchange(fn.name());
        String dlx = names.deadLetterExchange(fn.name());
        String dlq = names.deadLetterQueue(fn.name());
        List<Queue> queues = new ArrayList<>();
        List<Binding> bindings = new ArrayList<>();
        for (int i = 0; i < fn.partitions(); i++) {
            String partition = names.partition(fn.name(), i);
            queues.add(new Queue(partition, partitionArguments(fn, dlx)));
            bindings.add(new Binding(exchange, partition, Partitioning.routingKey(i)));
        }
        queues.add(new Queue(dlq, deadLetterQueueArguments(fn)));
        bindings.add(new Binding(dlx, dlq, ""));
        List<Exchange> exchanges = new ArrayList<>(
                List.of(new Exchange(exchange, "direct"), new Exchange(dlx, "fanout")));
        if (fn.retry().mode() == FunctionDescription.RetryMode.RELAXED) {
            String retry = names.retryExchange(fn.name());
            exchanges.add(new Exchange(retry, "headers"));
            for (int level = 1; level <= fn.retry().delayLevels(); level++) {
                String delay = names.delayQueue(fn.name(), level);
                queues.add(new Queue(delay, delayQueueArguments(fn, level)));
                bindings.add(new Binding(retry, delay, "",
                        Map.of("x-match", "all", DELAY_LEVEL, String.valueOf(level))));
            }
        }
        return new TopologySpec(List.copyOf(exchanges), List.copyOf(queues), List.copyOf(bindings));
    }

    /**
     * The dead-letter queue is a classic queue: operators browse it (get, then requeue), and a classic queue
     * has no delivery limit that browsing would use up (quorum queues on RabbitMQ 4 drop or dead-letter a
     * message after 20 requeues by default) and gives requeued messages back their place. Its length is
     * capped with reject-publish: when full, nothing is dropped; the trigger keeps the event in its
     * partition and says so (docs/failure-model.md "Failure model").
     */
    private static Map<String, Object> deadLetterQueueArguments(FunctionDescription fn) {
        Map<String, Object> args = new LinkedHashMap<>();
        args.put("x-queue-type", "classic");
        args.put("x-max-length", fn.limits().deadLetterMax());
        args.put("x-overflow", "reject-publish");
        return Map.copyOf(args);
    }

    /**
     * A relaxed-mode delay queue: holds events after their {@code level}-th failure for that level's backoff
     * (queue TTL; each event also carries its jittered expiration, never longer), then dead-letters them, at
     * least once, through the default exchange back to the partition queue they came from (their routing
     * key). Quorum, so a waiting event survives a broker node's loss. Never consumed.
     */
    private static Map<String, Object> delayQueueArguments(FunctionDescription fn, int level) {
        Map<String, Object> args = new LinkedHashMap<>();
        args.put("x-queue-type", "quorum");
        args.put("x-message-ttl", Math.max(1, fn.retry().delayAfter(level).toMillis()));
        args.put("x-dead-letter-exchange", "");
        args.put("x-dead-letter-strategy", "at-least-once");
        args.put("x-overflow", "reject-publish");
        args.put("x-max-length", fn.limits().depthCeiling());
        return Map.copyOf(args);
    }

    /**
     * Partition queue arguments: quorum (replicated, durable), single active consumer (one consumer at a time
     * keeps the partition's order across instances), a broker-side length cap that refuses publishes instead
     * of dropping, at-least-once dead-lettering to {@code <fn>.dlx} (it needs reject-publish), and a delivery
     * limit that stops a crash loop (an event whose delivery keeps killing consumers) after a few rounds.
     */
    private static Map<String, Object> partitionArguments(FunctionDescription fn, String dlx) {
        Map<String, Object> args = new LinkedHashMap<>();
        args.put("x-queue-type", "quorum");
        args.put("x-single-active-consumer", true);
        args.put("x-max-length", fn.partitionMaxLength());
        args.put("x-overflow", "reject-publish");
        args.put("x-dead-letter-exchange", dlx);
        args.put("x-dead-letter-strategy", "at-least-once");
        args.put("x-delivery-limit", deliveryLimit(fn));
        return Map.copyOf(args);
    }

    /** Redeliveries (crashes, lost connections) tolerated before the broker dead-letters an event itself. */
    public static long deliveryLimit(FunctionDescription fn) {
        return fn.retry().maxAttempts() + 5L;
    }
}
