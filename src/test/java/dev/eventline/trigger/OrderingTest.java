package dev.eventline.trigger;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import dev.eventline.app.Lifecycle;
import dev.eventline.functions.orders.OrderLifecycle;
import dev.eventline.testsupport.BrokerResource;
import dev.eventline.testsupport.OrderScenario;
import dev.eventline.testsupport.TestBroker;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;

/** Per-key order over 8 partitions, with many keys in parallel, also when the consumer connection is killed. */
@QuarkusTest
@QuarkusTestResource(BrokerResource.class)
class OrderingTest {

    @Inject
    OrderLifecycle orders;
    @Inject
    Lifecycle lifecycle;

    @TestHTTPResource("/events")
    URI gate;

    @Test
    void keepsOrderPerEntityAcrossEightPartitions() throws Exception {
        OrderScenario scenario = new OrderScenario("ord-" + UUID.randomUUID(), 400, 8, 42);
        assertTrue(scenario.totalEvents() >= 2000, "thousands of events: " + scenario.totalEvents());
        scenario.send(gate, 6, 50);
        scenario.awaitAppliedInOrder(orders, Duration.ofSeconds(120));
    }

    @Test
    void losesNothingWhenTheConsumerConnectionIsKilled() throws Exception {
        OrderScenario scenario = new OrderScenario("kill-" + UUID.randomUUID(), 500, 8, 7);
        long startedApplied = orders.report().applied();
        CompletableFuture<Void> sending = scenario.sendInBackground(gate, 4, 20);
        // kill the trigger's connection (broker side, as a network failure would) while events flow
        await().atMost(Duration.ofSeconds(60)).until(() -> orders.report().applied() - startedApplied > 300);
        // the management API lists a connection once its first statistics are out: ask until it is found
        await().atMost(Duration.ofSeconds(30))
                .until(() -> TestBroker.get().closeConnections("eventline-trigger-orders@" + lifecycle.instance()) == 1);
        long appliedAtKill = orders.report().applied() - startedApplied;
        assertTrue(appliedAtKill < scenario.totalEvents(), "the connection died mid-stream: " + appliedAtKill);
        sending.get();
        scenario.awaitAppliedInOrder(orders, Duration.ofSeconds(120));
    }
}
