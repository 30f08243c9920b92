package dev.eventline.faults;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;

import dev.eventline.broker.EventCodec;
import dev.eventline.fault.DeadLetterFormat;
import dev.eventline.testsupport.BrokerResource;
import dev.eventline.testsupport.GateClient;
import dev.eventline.testsupport.TestBroker;
import dev.eventline.topology.Names;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

/**
 * Replay with a dead letter that reached the queue around the gate with a partition key longer than an AMQP
 * routing key may be. When replay routed by the key itself, the client counted a sequence number for it and
 * then threw, and the events replayed after it were judged by the wrong confirms. Replay now routes by the
 * key's partition index (as the gate does), so it publishes such an event; the consumer, which bounds the key
 * as the gate does, dead-letters it again with the reason, and the events after it are applied. A publish that
 * throws for another reason is covered by ConfirmingPublisherTest.
 */
@QuarkusTest
@QuarkusTestResource(BrokerResource.class)
@TestProfile(FaultProfile.class)
class ReplayBookkeepingTest extends FaultTestBase {

    @Inject
    Names names;

    @Test
    void aDeadLetterWithAnOverLongKeyComesBackWithItsReasonAndTheEventsAfterItAreApplied() throws Exception {
        String bad = "long-key-" + run;
        List<String> good = List.of("after-1-" + run, "after-2-" + run);
        try (Connection c = TestBroker.get().connectionFactory().newConnection("replay-test-" + run)) {
            Channel ch = c.createChannel();
            ch.confirmSelect();
            deadLetter(ch, bad, "k".repeat(256));
            for (String id : good) {
                deadLetter(ch, id, "k-" + id);
            }
            ch.waitForConfirmsOrDie(10_000);
        }
        JsonNode replay = Faults.admin("flaky", "replay", Map.of("ids", List.of(bad, good.get(0), good.get(1))));

        assertEquals(3, replay.path("replayed").asInt(), replay.toString());
        assertEquals(0, replay.path("skipped").size(), replay.toString());
        for (String id : good) {
            await().atMost(Duration.ofSeconds(30)).until(() -> ledger.applied(id) == 1);
            assertEquals(0, Faults.deadLetters("flaky", Map.of("id", id)).path("matched").asInt(), id);
        }
        JsonNode back = Faults.awaitDeadLetter("flaky", bad);
        assertTrue(back.path("reason").asText().contains("'partitionkey' is 256 bytes"), back.toString());
        assertEquals(0, ledger.applied(bad));
    }

    /** Puts a dead letter straight into flaky's dead-letter queue, as the broker would have. */
    private void deadLetter(Channel ch, String id, String key) throws Exception {
        AMQP.BasicProperties props = new AMQP.BasicProperties.Builder().messageId(id).type("fault.strict")
                .contentType(EventCodec.CONTENT_TYPE).deliveryMode(2)
                .headers(Map.of(EventCodec.PARTITION_KEY, key, DeadLetterFormat.REASON, "test")).build();
        byte[] body = GateClient.event(id, "fault.strict", key, Script.ok()).toString().getBytes(StandardCharsets.UTF_8);
        ch.basicPublish("", names.deadLetterQueue("flaky"), props, body);
    }
}
