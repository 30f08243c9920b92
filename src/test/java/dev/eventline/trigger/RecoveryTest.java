package dev.eventline.trigger;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;

import dev.eventline.app.Lifecycle;
import dev.eventline.functions.orders.OrderLifecycle;
import dev.eventline.testsupport.BrokerResource;
import dev.eventline.testsupport.GateClient;
import dev.eventline.testsupport.OrderScenario;
import dev.eventline.testsupport.TestBroker;
import dev.eventline.topology.Names;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;

/**
 * The pipeline keeps flowing through faults that drop every connection of the process at once, under load:
 * afterwards every partition has exactly one consumer, everything accepted is applied, in order, and
 * readiness is UP again.
 */
@QuarkusTest
@QuarkusTestResource(BrokerResource.class)
class RecoveryTest {

    @Inject
    OrderLifecycle orders;
    @Inject
    Names names;
    @Inject
    Lifecycle lifecycle;
    @Inject
    io.micrometer.core.instrument.MeterRegistry registry;

    @TestHTTPResource("/events")
    URI gate;

    @Test
    void keepsDrainingWhenEveryConnectionOfTheProcessIsClosedAtOnce() throws Exception {
        // as a network blip or a proxy reset does: through the management API, broker side
        // (the management API lists a connection once its first statistics are out: ask until they are all found)
        runThrough("blip", () -> await().atMost(Duration.ofSeconds(30))
                .until(() -> TestBroker.get().closeConnectionsOf(lifecycle.instance()) >= 6));
    }

    @Test
    void keepsDrainingAfterTheBrokerRestartsUnderLoad() throws Exception {
        TestBroker.get().assumePrivate("restarts the broker (stop_app, start_app)");
        runThrough("restart", TestBroker.get()::restartApp);
    }

    /**
     * A partition whose consumer gets nothing while its queue holds events: another consumer holds the
     * partition's single-active-consumer slot (and one event, never acked). Readiness goes DOWN naming the
     * partition, the instance takes it anew, and once the other consumer is gone it drains, in order.
     */
    @Test
    void readinessReportsAPartitionThatHoldsEventsAndDoesNotDrain() throws Exception {
        String queue = names.partition("orders", 0);
        OrderScenario scenario = new OrderScenario("stall-" + UUID.randomUUID(), 1, 3, 1);
        List<String> keys = new java.util.ArrayList<>();
        try (Connection foreign = TestBroker.get().connectionFactory().newConnection("recovery-test-foreign")) {
            Channel holder = foreign.createChannel();
            holder.basicQos(1);
            holder.basicConsume(queue, false, new com.rabbitmq.client.DefaultConsumer(holder)); // never acks
            // our instance reconnects behind it: the foreign consumer becomes the active one
            double taken = taken();
            await().atMost(Duration.ofSeconds(30)).until(() -> TestBroker.get()
                    .closeConnections("eventline-trigger-orders@" + lifecycle.instance()) == 1);
            await().atMost(Duration.ofSeconds(30)).until(() -> taken() >= taken + 8);
            // events for partition 0: every key here hashes there
            keys.addAll(keysOfPartition(0, 5));
            for (String key : keys) {
                new GateClient(gate).deliver(List.of(GateClient.event(key + "-v1", "order.created", key,
                        Map.of("orderId", key, "version", 1))), 20);
            }
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
                var ready = RestAssured.get("/q/health/ready");
                assertEquals(503, ready.statusCode());
                assertTrue(ready.body().asString().contains("stalled-" + queue), ready.body().asString());
            });
        }
        // the foreign consumer is gone (its event back at the head): the partition drains, readiness is UP
        await().atMost(Duration.ofSeconds(60)).until(() -> RestAssured.get("/q/health/ready").statusCode() == 200);
        for (String key : keys) {
            await().atMost(Duration.ofSeconds(60)).until(() -> orders.order(key) != null);
        }
        scenario.send(gate, 1, 10);
        scenario.awaitAppliedInOrder(orders, Duration.ofSeconds(60));
    }

    /** Partitions of orders this process has taken so far. */
    private double taken() {
        var counter = registry.find("eventline.partition.handovers").tag("function", "orders")
                .tag("direction", "taken").counter();
        return counter == null ? 0 : counter.count();
    }

    private static List<String> keysOfPartition(int partition, int count) {
        List<String> keys = new java.util.ArrayList<>();
        for (int i = 0; keys.size() < count; i++) {
            String key = "stall-" + i + "-" + UUID.randomUUID();
            if (dev.eventline.topology.Partitioning.of(key, 8) == partition) {
                keys.add(key);
            }
        }
        return keys;
    }

    private void runThrough(String name, Runnable fault) throws Exception {
        OrderScenario scenario = new OrderScenario(name + "-" + UUID.randomUUID(), 800, 6, 5);
        long before = orders.report().applied();
        CompletableFuture<Void> sending = scenario.sendInBackground(gate, 4, 20);
        await().atMost(Duration.ofSeconds(60)).until(() -> orders.report().applied() - before > 300);
        long appliedAtFault = orders.report().applied() - before;
        fault.run();
        assertTrue(appliedAtFault < scenario.totalEvents() / 2, "the fault came mid-stream: " + appliedAtFault);
        sending.get();
        scenario.awaitAppliedInOrder(orders, Duration.ofSeconds(120));
        try (Connection c = TestBroker.get().connectionFactory().newConnection("recovery-test-inspect")) {
            Channel ch = c.createChannel();
            for (String partition : names.partitions("orders", 8)) {
                await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertEquals(1,
                        ch.queueDeclarePassive(partition).getConsumerCount(), "consumers of " + partition));
            }
        }
        await().atMost(Duration.ofSeconds(30))
                .until(() -> RestAssured.get("/q/health/ready").statusCode() == 200);
    }
}
