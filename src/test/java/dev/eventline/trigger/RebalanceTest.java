package dev.eventline.trigger;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

import jakarta.inject.Inject;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.eventline.broker.Broker;
import dev.eventline.config.FunctionCatalog;
import dev.eventline.config.FunctionDescription;
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
 * Several instances of the orders function (8 partitions), each with its own connections as separate
 * processes would have: they share the partitions evenly as they join, take over what a stopped or killed
 * instance owned, never own a partition twice, and lose or reorder nothing while doing so.
 */
@QuarkusTest
@QuarkusTestResource(BrokerResource.class)
@TestProfile(RebalanceTest.GateOnlyFastReports.class)
class RebalanceTest {

    /** This process runs only the gate; instances report and rebalance every 200 ms. */
    public static class GateOnlyFastReports implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("eventline.functions.enabled", "none", "eventline.monitor.interval", "200ms");
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

    private final List<Trigger.Running> instances = new ArrayList<>();

    @AfterEach
    void stopAll() {
        instances.forEach(i -> i.stop(Duration.ofSeconds(10)));
        instances.clear();
    }

    private Trigger.Running launch(String name) throws Exception {
        Trigger.Running r = trigger.launch(name, List.of(orders()));
        instances.add(r);
        return r;
    }

    /** An instance whose network to the broker the test can cut, as if its process died. */
    private Trigger.Running launch(String name, CuttableNetwork network) throws Exception {
        Trigger.Running r = trigger.launch(name, List.of(orders()), broker.through(network));
        instances.add(r);
        return r;
    }

    private FunctionDescription orders() {
        return catalog.byName("orders").orElseThrow();
    }

    @Test
    void oneTwoFourInstancesConvergeOnAnEvenSplit() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 6);
        Trigger.Running a = launch("a-" + run);
        assertEquals(8, a.owned("orders"), "alone, an instance takes every partition at once");

        long t0 = System.nanoTime();
        Trigger.Running b = launch("b-" + run);
        awaitSplit(List.of(a, b), List.of(4, 4));
        long two = System.nanoTime();
        Trigger.Running c = launch("c-" + run);
        Trigger.Running d = launch("d-" + run);
        awaitSplit(List.of(a, b, c, d), List.of(2, 2, 2, 2));
        long four = System.nanoTime();
        System.out.printf("[rebalance] 1 -> 2 instances settled in %d ms, 2 -> 4 in %d ms%n",
                (two - t0) / 1_000_000, (four - two) / 1_000_000);

        // three instances: 8 = 3 + 3 + 2
        d.stop(Duration.ofSeconds(10));
        instances.remove(d);
        await().atMost(Duration.ofSeconds(30)).until(() -> sortedShares(List.of(a, b, c)).equals(List.of(2, 3, 3)));
        assertDisjointAndComplete(List.of(a, b, c));
    }

    @Test
    void stoppingAndKillingInstancesMidStreamLosesAndReordersNothing() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 6);
        Trigger.Running a = launch("a-" + run);
        Trigger.Running b = launch("b-" + run);
        CuttableNetwork toC = new CuttableNetwork();
        Trigger.Running c = launch("c-" + run, toC);
        Trigger.Running d = launch("d-" + run);
        awaitSplit(List.of(a, b, c, d), List.of(2, 2, 2, 2));

        OrderScenario scenario = new OrderScenario("rebalance-" + run, 600, 6, 13);
        long before = orders.report().applied();
        CompletableFuture<Void> sending = scenario.sendInBackground(gate, 4, 20);
        await().atMost(Duration.ofSeconds(60)).until(() -> orders.report().applied() - before > 500);
        b.stop(Duration.ofSeconds(30)); // graceful: finishes its calls, hands its partitions back
        instances.remove(b);
        await().atMost(Duration.ofSeconds(60)).until(() -> orders.report().applied() - before > 1500);
        toC.cut(); // c dies as far as the broker can tell: its partitions are free once its connections are gone
        await().atMost(Duration.ofSeconds(30)).until(() -> c.owned("orders") == 0);
        long appliedAtKill = orders.report().applied() - before;
        assertTrue(appliedAtKill < scenario.totalEvents(), "the kill happened mid-stream: " + appliedAtKill);
        Trigger.Running e = launch("e-" + run); // and one joins
        sending.get();
        scenario.awaitAppliedInOrder(orders, Duration.ofSeconds(120));
        awaitSplit(List.of(a, d, e), List.of(2, 3, 3));
    }

    private static List<Integer> sortedShares(List<Trigger.Running> running) {
        return running.stream().map(r -> r.owned("orders")).sorted().toList();
    }

    private static void awaitSplit(List<Trigger.Running> running, List<Integer> shares) {
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                .until(() -> sortedShares(running).equals(shares.stream().sorted().toList()));
        assertDisjointAndComplete(running);
    }

    /** No partition owned twice, none left out. */
    private static void assertDisjointAndComplete(List<Trigger.Running> running) {
        Set<Integer> all = new HashSet<>();
        int count = 0;
        for (Trigger.Running r : running) {
            List<Integer> mine = r.ownedPartitions("orders");
            count += mine.size();
            all.addAll(mine);
        }
        assertEquals(count, all.size(), "a partition owned twice");
        assertEquals(8, all.size(), "every partition owned: " + all);
    }
}
