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

    public record Binding(String exchange, String queue, String routingKey) {
    }

    public static TopologySpec of(FunctionDescription fn, Names names) {
        String exchange = names.exchange(fn.name());
        String dlx = names.deadLetterExchange(fn.name());
        String dlq = names.deadLetterQueue(fn.name());
        List<Queue> queues = new ArrayList<>();
        List<Binding> bindings = new ArrayList<>();
        for (String partition : names.partitions(fn.name(), fn.partitions())) {
            queues.add(new Queue(partition, partitionArguments(fn, dlx)));
            bindings.add(new Binding(exchange, partition, Names.PARTITION_WEIGHT));
        }
        Map<String, Object> dlqArgs = new LinkedHashMap<>();
        dlqArgs.put("x-queue-type", "quorum");
        dlqArgs.put("x-max-length", fn.limits().deadLetterMax());
        dlqArgs.put("x-overflow", "reject-publish");
        queues.add(new Queue(dlq, dlqArgs));
        bindings.add(new Binding(dlx, dlq, ""));
        return new TopologySpec(
                List.of(new Exchange(exchange, "x-consistent-hash"), new Exchange(dlx, "fanout")),
                List.copyOf(queues), List.copyOf(bindings));
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
