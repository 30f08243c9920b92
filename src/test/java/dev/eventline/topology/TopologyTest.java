package dev.eventline.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.Test;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;

import dev.eventline.config.FunctionCatalog;
import dev.eventline.config.FunctionDescription;
import dev.eventline.testsupport.TestBroker;

/** Declaring and verifying a function's topology on a real broker, and reporting what differs. */
class TopologyTest {

    private final FunctionDescription orders = FunctionCatalog.fromClasspath(getClass().getClassLoader())
            .byName("orders").orElseThrow();

    @Test
    void namesFollowOneRule() {
        Names names = new Names("p-");
        assertEquals("p-orders", names.exchange("orders"));
        assertEquals("p-orders-3", names.partition("orders", 3));
        assertEquals("p-orders.dlx", names.deadLetterExchange("orders"));
        assertEquals("p-orders.dlq", names.deadLetterQueue("orders"));
        assertEquals(List.of("p-orders-0", "p-orders-1"), names.partitions("orders", 2));
    }

    @Test
    void specHasPartitionsBoundByTheirIndexAndBrokerCeiling() {
        TopologySpec spec = TopologySpec.of(orders, new Names(""));
        assertEquals(orders.partitions() + 1, spec.queues().size());
        Map<String, Object> args = spec.queues().get(0).arguments();
        assertEquals("quorum", args.get("x-queue-type"));
        assertEquals(true, args.get("x-single-active-consumer"));
        assertEquals("reject-publish", args.get("x-overflow"));
        assertEquals(orders.partitionMaxLength(), args.get("x-max-length"));
        assertTrue(spec.bindings().stream().filter(b -> b.exchange().equals("orders"))
                .allMatch(b -> b.queue().equals("orders-" + b.routingKey())), "orders-i is bound with key i");
        assertEquals(orders.partitions(), spec.bindings().stream().filter(b -> b.exchange().equals("orders")).count());
        assertEquals("direct", spec.exchanges().get(0).type());
    }

    @Test
    void deadLetterQueueIsAClassicBoundedQueue() {
        TopologySpec spec = TopologySpec.of(orders, new Names(""));
        Map<String, Object> dlq = spec.queues().stream().filter(q -> q.name().equals("orders.dlq")).findFirst()
                .orElseThrow().arguments();
        assertEquals(Map.of("x-queue-type", "classic", "x-max-length", orders.limits().deadLetterMax(),
                "x-overflow", "reject-publish"), dlq);
        assertTrue(spec.exchanges().stream().noneMatch(e -> e.type().equals("headers")), "strict mode needs no delays");
    }

    @Test
    void relaxedModeAddsDelayQueuesThatReturnEventsToTheirPartition() {
        FunctionDescription relaxed = new dev.eventline.config.DescriptionParser().parse("r.yaml",
                "name: relaxed\neventTypes: [a.b]\npartitions: 2\nretry:\n  mode: relaxed\n  maxAttempts: 4\n"
                        + "  initialDelayMs: 100\n  multiplier: 2\n  maxDelayMs: 150\n", null);
        TopologySpec spec = TopologySpec.of(relaxed, new Names("p-"));
        assertTrue(spec.exchanges().contains(new TopologySpec.Exchange("p-relaxed.retry", "headers")));
        // waits 100, 150 (capped), 150: two levels
        List<TopologySpec.Queue> delays = spec.queues().stream().filter(q -> q.name().contains(".retry-")).toList();
        assertEquals(List.of("p-relaxed.retry-1", "p-relaxed.retry-2"), delays.stream().map(q -> q.name()).toList());
        assertEquals(100L, delays.get(0).arguments().get("x-message-ttl"));
        assertEquals(150L, delays.get(1).arguments().get("x-message-ttl"));
        assertEquals("", delays.get(0).arguments().get("x-dead-letter-exchange"));
        assertEquals("at-least-once", delays.get(0).arguments().get("x-dead-letter-strategy"));
        assertTrue(spec.bindings().contains(new TopologySpec.Binding("p-relaxed.retry", "p-relaxed.retry-2", "",
                Map.of("x-match", "all", TopologySpec.DELAY_LEVEL, "2"))));
    }

    @Test
    void declaresThenVerifiesWithoutDifferences() throws Exception {
        Names names = new Names("topo-" + UUID.randomUUID() + "-");
        TopologyManager manager = new TopologyManager(names);
        try (Connection c = TestBroker.get().connectionFactory().newConnection("topology-test")) {
            assertEquals(List.of(), manager.apply(c, orders, false).stream().filter(d -> !d.contains("missing"))
                    .toList(), "before declaration only missing things are reported");
            assertEquals(orders.partitions() + 1 + 2, manager.apply(c, orders, false).size(),
                    "every queue and both exchanges are missing");
            assertEquals(List.of(), manager.apply(c, orders, true));
            assertEquals(List.of(), manager.apply(c, orders, false));
            delete(c, names);
        }
    }

    @Test
    void reportsAQueueWhoseArgumentsDiffer() throws Exception {
        Names names = new Names("diff-" + UUID.randomUUID() + "-");
        TopologyManager manager = new TopologyManager(names);
        try (Connection c = TestBroker.get().connectionFactory().newConnection("topology-test")) {
            Channel ch = c.createChannel();
            ch.queueDeclare(names.partition("orders", 2), true, false, false,
                    Map.of("x-queue-type", "quorum", "x-max-length", 7));
            for (boolean declare : new boolean[] { false, true }) {
                List<String> differences = manager.apply(c, orders, declare);
                assertTrue(differences.stream().anyMatch(d -> d.startsWith("queue '" + names.partition("orders", 2) + "'")
                        && d.contains("inequivalent arg")), String.valueOf(differences));
            }
            delete(c, names);
        }
    }

    private void delete(Connection c, Names names) throws Exception {
        new TopologyManager(names).delete(c, orders);
    }
}
