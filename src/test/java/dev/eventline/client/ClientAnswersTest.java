package dev.eventline.client;

import static dev.eventline.client.ClientFixture.assertFlushed;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.eventline.testsupport.BrokerResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

/**
 * The producer client against the real gate, for the answers that settle events at once: 202, and the refusals
 * 400, 401, 403 and 413. Delivery is checked on what the function applied, per key and in order.
 */
@QuarkusTest
@QuarkusTestResource(BrokerResource.class)
@TestProfile(ClientProfile.class)
class ClientAnswersTest extends RealGateTest {

    private static final String ORDERED = "client.ordered";

    private RecordingProxy proxy() throws Exception {
        return proxy(0, 0);
    }

    @Test
    void deliversEveryEventAndTheFunctionAppliesEachKeyInOrder() throws Exception {
        List<String> keys;
        try (EventlineClient client = f.client(events, ClientProfile.KEY).senders(4).batchSize(10).build()) {
            keys = f.sendInterleaved(client, ORDERED, "ok", 6, 15);
            assertFlushed(client, Duration.ofSeconds(60));
            assertEquals(new EventlineClient.Stats(90, 0, 0, 0), client.stats());
        }
        f.assertAppliedInOrder(applied, keys, 15);
    }

    @Test
    void aBatchWithOneInvalidEventRejectsOnlyThatEventAndDeliversTheOthers() throws Exception {
        RecordingProxy gate = proxy();
        try (EventlineClient client = f.client(gate.uri(), ClientProfile.KEY).senders(1).batchSize(5)
                .linger(Duration.ofSeconds(10)).build()) {
            for (int k = 0; k < 5; k++) {
                client.send(k == 2 ? f.event(ORDERED, "bad" + k, 0).put("time", "yesterday")
                        : f.event(ORDERED, "bad" + k, 0));
            }
            client.send(f.event(ORDERED, "bad2", 1)); // the refused event does not hold its key back
            assertFlushed(client, Duration.ofSeconds(60));
            assertEquals(new EventlineClient.Stats(5, 0, 0, 1), client.stats());
        }
        assertEquals(List.of(f.id("bad2", 0)), List.copyOf(f.rejectedIds));
        String reason = f.reasons.peek();
        assertTrue(reason.startsWith("400 invalid-event: ") && reason.endsWith("(field 'time')"), reason);
        RecordingProxy.Exchange first = gate.exchanges().get(0);
        assertEquals(5, first.ids.size(), "one batch of five");
        assertEquals(400, first.status, first.body);
        f.assertAppliedInOrder(applied, List.of("bad0", "bad1", "bad3", "bad4"), 1);
        assertEquals(List.of(1), applied.seqs(f.key("bad2")), "only the valid event of the refused key");
    }

    @Test
    void anUnknownProducerKeyRejectsEveryEventWithTheGatesReason() throws Exception {
        String unknown = "not-a-producer-key-0123456789";
        try (EventlineClient client = f.client(events, unknown).build()) {
            f.sendInterleaved(client, ORDERED, "unauth", 3, 1);
            assertFlushed(client, Duration.ofSeconds(60));
            assertEquals(new EventlineClient.Stats(0, 0, 0, 3), client.stats());
        }
        assertEquals(3, f.rejectedIds.size());
        assertTrue(f.reasons.stream().allMatch(r -> r.startsWith("401 unauthorized: unknown producer key")),
                f.reasons.toString());
        assertFalse(f.reasons.stream().anyMatch(r -> r.contains(unknown)), "the key is never in a reason");
        assertEquals(List.of(), applied.seqs(f.key("unauth0")));
    }

    @Test
    void aTypeTheProducerMayNotSendRejectsOnlyThatEvent() throws Exception {
        try (EventlineClient client = f.client(events, ClientProfile.NARROW).senders(1).batchSize(3)
                .linger(Duration.ofSeconds(10)).build()) {
            client.send(f.event(ORDERED, "grant0", 0));
            client.send(f.event("client.capped", "grant1", 0));
            client.send(f.event(ORDERED, "grant2", 0));
            assertFlushed(client, Duration.ofSeconds(60));
            assertEquals(new EventlineClient.Stats(2, 0, 0, 1), client.stats());
        }
        assertEquals(List.of(f.id("grant1", 0)), List.copyOf(f.rejectedIds));
        assertTrue(f.reasons.peek().startsWith("403 forbidden: producer 'narrow' may not send events of type "
                + "'client.capped'"), f.reasons.peek());
        f.assertAppliedInOrder(applied, List.of("grant0", "grant2"), 1);
    }

    @Test
    void anEventOverTheGatesEventLimitIsRejectedAndTheRestOfItsBatchDelivered() throws Exception {
        try (EventlineClient client = f.client(events, ClientProfile.KEY).senders(1).batchSize(3)
                .linger(Duration.ofSeconds(10)).build()) {
            client.send(f.event(ORDERED, "size0", 0));
            client.send(f.event(ORDERED, "size1", 0).put("padding", "x".repeat(ClientProfile.MAX_EVENT_BYTES)));
            client.send(f.event(ORDERED, "size2", 0));
            assertFlushed(client, Duration.ofSeconds(60));
        }
        assertEquals(List.of(f.id("size1", 0)), List.copyOf(f.rejectedIds));
        assertTrue(f.reasons.peek().startsWith("413 event-too-large: "), f.reasons.peek());
        f.assertAppliedInOrder(applied, List.of("size0", "size2"), 1);
    }

    @Test
    void aBatchOverTheGatesEventCountIsSplitAndDelivered() throws Exception {
        RecordingProxy gate = proxy();
        List<String> keys;
        try (EventlineClient client = f.client(gate.uri(), ClientProfile.KEY).senders(1).batchSize(25)
                .linger(Duration.ofSeconds(10)).build()) {
            keys = f.sendInterleaved(client, ORDERED, "count", 25, 1);
            assertFlushed(client, Duration.ofSeconds(60));
            assertEquals(new EventlineClient.Stats(25, 0, 0, 0), client.stats());
        }
        assertEquals(413, gate.exchanges().get(0).status, "25 events > " + ClientProfile.MAX_BATCH_EVENTS);
        assertTrue(gate.exchanges().stream().filter(x -> x.status == 202)
                .allMatch(x -> x.ids.size() <= ClientProfile.MAX_BATCH_EVENTS));
        f.assertAppliedInOrder(applied, keys, 1);
    }

    @Test
    void aBodyOverTheGatesRequestLimitIsSplitAndDelivered() throws Exception {
        RecordingProxy gate = proxy();
        String padding = "x".repeat(ClientProfile.MAX_EVENT_BYTES - 600);
        try (EventlineClient client = f.client(gate.uri(), ClientProfile.KEY).senders(1).batchSize(10)
                .linger(Duration.ofSeconds(10)).build()) {
            for (int k = 0; k < 10; k++) {
                client.send(f.event(ORDERED, "body" + k, 0).put("padding", padding));
            }
            assertFlushed(client, Duration.ofSeconds(60));
            assertEquals(new EventlineClient.Stats(10, 0, 0, 0), client.stats());
        }
        RecordingProxy.Exchange first = gate.exchanges().get(0);
        assertEquals(413, first.status, first.body);
        assertTrue(first.body.contains("request-too-large"), first.body);
        f.assertAppliedInOrder(applied, java.util.stream.IntStream.range(0, 10).mapToObj(k -> "body" + k).toList(), 1);
    }
}
