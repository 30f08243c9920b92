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

import dev.eventline.broker.Broker;
import dev.eventline.config.FunctionCatalog;
import dev.eventline.functions.orders.OrderLifecycle;
import dev.eventline.testsupport.BrokerResource;
import dev.eventline.testsupport.CuttableNetwork;
import dev.eventline.testsupport.OrderScenario;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/**
 * Two instances of the orders function, each with its own connections (as two processes would have): they
 * share the partitions; when one stops or dies mid-stream, the other takes its
 * partitions over, and nothing is lost or reordered.
 */
@QuarkusTest
@QuarkusTestResource(BrokerResource.class)
@TestProfile(TakeoverTest.GateOnly.class)
class TakeoverTest {

    /** This process runs only the gate; the test starts the function instances itself. */
    public static class GateOnly implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("eventline.functions.enabled", "none");
        }
    }

    @Inject
    Trigger trigger;
    @Inject
    Broker broker;
    @Inject
    FunctionCatalog catalog;
    @Inject
    OrderLifecycle orders;

    @TestHTTPResource("/events")
    URI gate;

    @Test
    void survivorTakesOverWhenAnInstanceStops() throws Exception {
        runWithTwoInstances("stop", new CuttableNetwork(), first -> first.stop(Duration.ofSeconds(30)));
    }

    @Test
    void survivorTakesOverWhenAnInstanceDies() throws Exception {
        CuttableNetwork network = new CuttableNetwork();
        runWithTwoInstances("die", network, first -> {
            network.cut(); // its connections drop as a dead process's do
            await().atMost(Duration.ofSeconds(30)).until(() -> first.owned("orders") == 0);
        });
    }

    /** @param network the first instance's way to the broker */
    private void runWithTwoInstances(String name, CuttableNetwork network,
            java.util.function.Consumer<Trigger.Running> end) throws Exception {
        List<dev.eventline.config.FunctionDescription> fns = List.of(catalog.byName("orders").orElseThrow());
        Trigger.Running first = trigger.launch(name + "-first", fns, broker.through(network));
        Trigger.Running second = trigger.launch(name + "-second", fns);
        try {
            OrderScenario scenario = new OrderScenario(name + "-" + UUID.randomUUID(), 500, 6, 11);
            long before = orders.report().applied();
            CompletableFuture<Void> sending = scenario.sendInBackground(gate, 4, 20);
            await().atMost(Duration.ofSeconds(60)).until(() -> orders.report().applied() - before > 300);
            end.accept(first);
            long appliedAtEnd = orders.report().applied() - before;
            assertTrue(appliedAtEnd < scenario.totalEvents(), "the first instance ended mid-stream: " + appliedAtEnd);
            sending.get();
            scenario.awaitAppliedInOrder(orders, Duration.ofSeconds(120));
        } finally {
            first.stop(Duration.ZERO);
            second.stop(Duration.ofSeconds(30));
        }
    }
}
