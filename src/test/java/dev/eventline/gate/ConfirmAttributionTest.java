package dev.eventline.gate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.eventline.testsupport.BrokerResource;
import dev.eventline.testsupport.GateClient;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

/**
 * The probe that found confirms drifting, replayed: an event whose id is longer than AMQP allows, then batches
 * in which one event goes to a full partition. Every 503 must name exactly the refused event, every event it
 * does not name must be on the broker, and no request may wait for the confirm timeout.
 */
@QuarkusTest
@QuarkusTestResource(BrokerResource.class)
@TestProfile(DoorProfile.class)
class ConfirmAttributionTest extends DoorTestBase {

    @Test
    void afterAnOverlongIdEveryReplyNamesExactlyTheRefusedEventsAndTheRestIsStored() throws Exception {
        GateClient gate = new GateClient(events, DoorProfile.KEY);
        GateClient.Reply overlong = gate.postBatch(List.of(GateClient.event("x".repeat(300), "roomy.event", "k",
                0)));
        assertEquals(400, overlong.status(), overlong.body());
        assertEquals("id", JSON.readTree(overlong.body()).path("field").asText());

        Set<String> accepted = new HashSet<>();
        for (int b = 0; b < 60; b++) {
            List<ObjectNode> batch = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                batch.add(GateClient.event(run + "-" + b + "-" + i, i == b % 10 ? "tiny.event" : "roomy.event",
                        "k-" + (i % 3), i));
            }
            long started = System.nanoTime();
            GateClient.Reply reply = gate.postBatch(batch);
            Duration took = Duration.ofNanos(System.nanoTime() - started);
            assertEquals(503, reply.status(), reply.body());
            JsonNode failed = JSON.readTree(reply.body()).path("failed");
            assertEquals(1, failed.size(), "batch " + b + ": " + reply.body());
            assertEquals(run + "-" + b + "-" + (b % 10), failed.path(0).path("id").asText(), reply.body());
            assertTrue(failed.path(0).path("reason").asText().startsWith("refused"), reply.body());
            assertTrue(took.compareTo(config.gate().confirmTimeout()) < 0, "batch " + b + " waited " + took);
            batch.forEach(e -> accepted.add(e.path("id").asText()));
            accepted.remove(run + "-" + b + "-" + (b % 10));
        }
        assertEquals(accepted, take("roomy"), "every event not named in 'failed' is stored");
        assertTrue(take("tiny").stream().allMatch(id -> id.startsWith(run + "-direct-")), "no refused event is stored");
    }
}
