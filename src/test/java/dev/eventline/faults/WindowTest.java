package dev.eventline.faults;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;

import dev.eventline.broker.Broker;
import dev.eventline.config.FunctionCatalog;
import dev.eventline.config.FunctionDescription;
import dev.eventline.testsupport.BrokerResource;
import dev.eventline.testsupport.CuttableNetwork;
import dev.eventline.testsupport.TestBroker;
import dev.eventline.topology.Names;
import dev.eventline.trigger.Trigger;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

/**
 * A partition consumer with a window of 64 loses its connection, or its process dies, while the window holds
 * more than 50 unacked events (one call held in the handler, the rest delivered behind it): every event is
 * applied, in queue order, and the event whose call finished without its ack is skipped as a duplicate by the
 * same process (another process cannot know what was applied since the last ack, at most one ack batch, and
 * applies those again, in order, before the rest).
 */
@QuarkusTest
@QuarkusTestResource(BrokerResource.class)
@TestProfile(FaultProfile.class)
class WindowTest extends FaultTestBase {

    private static final int EVENTS = 100;
    private static final int HELD = 40;
    private static final int WINDOW = 64;

    @Inject
    Trigger trigger;
    @Inject
    Broker broker;
    @Inject
    FunctionCatalog catalog;
    @Inject
    Names names;

    @Test
    void aLostConnectionWithAFullWindowLosesNothingKeepsOrderAndSkipsTheDuplicate() throws Exception {
        Trigger.Running instance = trigger.launch("window-cut-" + run, List.of(crashy()));
        try {
            List<String> ids = fillWindowBehindAHeldCall("cut");
            // lag is the age of the oldest unacked event: the held one, growing while it is held
            await().atMost(Duration.ofSeconds(10)).until(() -> faults.meter("consumer.lag", "crashy") >= 0.5);
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> TestBroker.get().closeConnectionsOf("window-cut-" + run) >= 1);
            double duplicates = faults.meter("duplicates.skipped", "crashy");
            ledger.release(ids.get(HELD - 1)); // the held call returns, too late to ack on its closed channel

            awaitAllApplied(ids);
            assertAppliedOnceInOrder(ids);
            assertEquals(1, ledger.calls(ids.get(HELD - 1)), "the held event was not called again");
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> faults.meter("duplicates.skipped", "crashy") >= duplicates + 1);
            // every event acked in its batch: nothing unacked is left to age
            await().atMost(Duration.ofSeconds(10)).until(() -> faults.meter("consumer.lag", "crashy") == 0);
        } finally {
            instance.stop(Duration.ofSeconds(10));
        }
    }

    @Test
    void aCrashWithAFullWindowLosesNothingAndKeepsOrder() throws Exception {
        CuttableNetwork network = new CuttableNetwork();
        Trigger.Running first = trigger.launch("window-first-" + run, List.of(crashy()), broker.through(network));
        Trigger.Running second = null;
        try {
            await().atMost(Duration.ofSeconds(10)).until(() -> first.owned("crashy") == 1);
            List<String> ids = fillWindowBehindAHeldCall("crash");
            String held = ids.get(HELD - 1);
            network.cut(); // the process dies as far as the broker can tell: its connections drop
            await().atMost(Duration.ofSeconds(30)).until(() -> first.owned("crashy") == 0); // and it settles nothing more
            ledger.release(held); // its call finishes after the process died, unacked
            await().atMost(Duration.ofSeconds(30)).until(() -> ledger.applied(held) == 1);
            second = trigger.launch("window-second-" + run, List.of(crashy())); // its replacement comes up

            awaitAllApplied(ids);
            // the dying instance applied the held event without acking it (and settled nothing after it); the next
            // owner cannot know that and applies it again: the dying instance's run, in order, then the next
            // owner's, in order from at most one ack batch back, and nothing missing
            List<String> applied = appliedOf(ids);
            int twice = applied.size() - ids.size();
            int handover = HELD;
            while (handover < ids.size() && applied.get(handover).equals(ids.get(handover))) {
                handover++;
            }
            assertEquals(ids.subList(0, handover), applied.subList(0, handover));
            assertEquals(ids.subList(handover - twice, ids.size()), applied.subList(handover, applied.size()));
            assertTrue(twice >= 1 && twice <= WINDOW / 4, twice + " applied twice: " + applied);
            await().atMost(Duration.ofSeconds(10)).until(() -> faults.meter("consumer.lag", "crashy") == 0);
        } finally {
            first.stop(Duration.ZERO);
            if (second != null) {
                second.stop(Duration.ofSeconds(10));
            }
        }
    }

    /**
     * A 20 ms handler with a prefetch of 64 and the default latency target (100 ms): the consumer lets the broker
     * deliver only what a quarter of the target holds (2 events, the one in hand included) ahead of the calls,
     * by keeping settled events unacked while it is busy; everything else stays ready in the queue, where the
     * gate sees it. Without that, 63 events would wait in the window, 1.3 s of calls the gate cannot see. (The
     * first window, delivered before any call was measured, is the whole prefetch.) Once the flow ends, every
     * held ack goes out.
     */
    @Test
    void aSlowHandlersWindowHoldsAQuarterOfTheLatencyTarget() throws Exception {
        Trigger.Running instance = trigger.launch("window-slow-" + run, List.of(crashy()));
        try {
            int events = 150;
            List<String> ids = IntStream.rangeClosed(1, events).mapToObj(i -> "slow-" + run + "-" + i).toList();
            faults.sendInOrder("fault.crashy", "k-slow-" + run, ids,
                    id -> new Script(0, false, false, false, 0, false, 20));
            String queue = names.partition("crashy", 0);
            int[] worst = new int[1];
            int[] samples = new int[1];
            try (Connection c = TestBroker.get().connectionFactory().newConnection("window-slow-test-" + run);
                    Channel ch = c.createChannel()) {
                // the first call measures the handler's time, but the broker has delivered the whole prefetch by
                // then: once those are called, sample while the partition drains
                await().atMost(Duration.ofSeconds(30)).until(() -> called(ids) >= WINDOW + 6);
                await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(5)).until(() -> {
                    int called = called(ids); // before the queue: the estimate below errs high, never low
                    long ready = ch.queueDeclarePassive(queue).getMessageCount();
                    worst[0] = Math.max(worst[0], (int) (events - called - ready)); // delivered, not yet called
                    samples[0]++;
                    return called >= events - 20;
                });
            }
            assertTrue(samples[0] >= 20, "sampled " + samples[0] + " times");
            assertTrue(worst[0] <= 4, "up to " + worst[0] + " events waited in the window (allowed: 2, and the "
                    + "races of reading the calls and the queue one after the other)");
            awaitAllApplied(ids);
            assertAppliedOnceInOrder(ids);
            await().atMost(Duration.ofSeconds(20)).until(() -> TestBroker.get().queueMessages(queue) == 0);
        } finally {
            instance.stop(Duration.ofSeconds(10));
        }
    }

    private int called(List<String> ids) {
        return (int) ids.stream().filter(id -> ledger.calls(id) > 0).count();
    }

    private FunctionDescription crashy() {
        return catalog.byName("crashy").orElseThrow().withPrefetch(WINDOW);
    }

    /**
     * Sends {@value #EVENTS} events of one key; the {@value #HELD}th holds its call. Returns once that call
     * runs and the events behind it sit in the consumer's window: none is left ready in the queue, none called.
     */
    private List<String> fillWindowBehindAHeldCall(String name) throws Exception {
        List<String> ids = IntStream.rangeClosed(1, EVENTS).mapToObj(i -> name + "-" + run + "-" + i).toList();
        String held = ids.get(HELD - 1);
        faults.sendInOrder("fault.crashy", "k-" + name + "-" + run, ids,
                id -> id.equals(held) ? Script.ok().holding(1, false) : Script.ok());
        await().atMost(Duration.ofSeconds(30)).until(() -> ledger.calls(held) == 1);
        for (String id : ids.subList(0, HELD - 1)) {
            assertEquals(1, ledger.applied(id), id);
        }
        try (Connection c = TestBroker.get().connectionFactory().newConnection("window-test-" + run);
                Channel ch = c.createChannel()) {
            String queue = names.partition("crashy", 0);
            // the broker delivers the rest at once, up to the window: 61 unacked events, nothing ready
            await().atMost(Duration.ofSeconds(10)).until(() -> ch.queueDeclarePassive(queue).getMessageCount() == 0);
        }
        assertTrue(EVENTS - HELD + 1 > 50 && EVENTS - HELD + 1 <= WINDOW);
        for (String id : ids.subList(HELD, EVENTS)) {
            assertEquals(0, ledger.calls(id), id);
        }
        return ids;
    }

    private void awaitAllApplied(List<String> ids) {
        await().atMost(Duration.ofSeconds(60)).until(() -> ids.stream().allMatch(id -> ledger.applied(id) >= 1));
    }

    private List<String> appliedOf(List<String> ids) {
        java.util.Set<String> ours = java.util.Set.copyOf(ids);
        return ledger.log().stream().filter(l -> l.startsWith("applied ")).map(l -> l.substring("applied ".length()))
                .filter(ours::contains).toList();
    }

    private void assertAppliedOnceInOrder(List<String> ids) {
        assertEquals(ids, appliedOf(ids));
    }
}
