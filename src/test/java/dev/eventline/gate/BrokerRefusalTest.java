package dev.eventline.gate;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.UUID;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;

import dev.eventline.testsupport.BrokerResource;
import dev.eventline.testsupport.TestBroker;
import dev.eventline.topology.Names;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

/**
 * A partition queue at its broker-side cap ({@code x-max-length}, overflow reject-publish) nacks; the gate
 * answers 503 naming exactly the events that were not confirmed, never 202.
 */
@QuarkusTest
@QuarkusTestResource(BrokerResource.class)
@TestProfile(DoorProfile.class)
class BrokerRefusalTest {

    @Inject
    Names names;
    @Inject
    io.micrometer.core.instrument.MeterRegistry registry;

    @Test
    void aPublisherBypassingTheGateGetsNacksAndTheGateAnswers503ForExactlyTheRefusedEvents() throws Exception {
        String run = UUID.randomUUID().toString();
        // the gate has read the (empty) queue's depth once; it reads it again only in an hour
        await().atMost(java.time.Duration.ofSeconds(30))
                .until(() -> registry.find("eventline.function.depth").tag("function", "tiny").gauge() != null);
        // a producer publishing straight to the exchange, with confirms: the cap (3) holds, the rest is nacked
        try (Connection c = TestBroker.get().connectionFactory().newConnection("bypass-" + run)) {
            Channel ch = c.createChannel();
            int[] ackedNacked = TinyPartition.fill(ch, names, run);
            int acked = ackedNacked[0];
            int nacked = ackedNacked[1];
            // a quorum queue checks its length before it appends: it may take one more than its cap
            assertTrue(acked == 3 || acked == 4, "acked " + acked);
            assertEquals(5 - acked, nacked);
            assertEquals(acked, ch.queueDeclarePassive(names.partition("tiny", 0)).getMessageCount(),
                    "every acked event is in the queue: nothing was dropped to make room");
        }
        // the gate's view of the depth is stale here (it read it once, at start), so it publishes; the broker
        // refuses, and the producer learns exactly which events were not accepted
        long timed = confirmTimed();
        given().auth().oauth2(DoorProfile.KEY).contentType("application/cloudevents+json")
                .body(TinyPartition.event(run + "-1")).post("/events").then().statusCode(503).body("error", equalTo("unavailable")).body("failed", hasSize(1))
                .body("failed[0].id", equalTo(run + "-1")).body("failed[0].reason", containsString("refused"));
        String batch = "[" + TinyPartition.event(run + "-a") + "," + TinyPartition.event(run + "-b") + "]";
        given().auth().oauth2(DoorProfile.KEY).contentType("application/cloudevents-batch+json").body(batch)
                .post("/events").then().statusCode(503).body("failed", hasSize(2))
                .body("failed.id", org.hamcrest.Matchers.contains(run + "-a", run + "-b"));
        // a nack answers fast: timed, it would read as a fast broker
        assertEquals(timed, confirmTimed(), "requests the broker refused are not timed as confirms");
    }

    private long confirmTimed() {
        io.micrometer.core.instrument.Timer timer = registry.find("eventline.gate.confirm").tag("function", "tiny")
                .timer();
        assertNotNull(timer, "the confirm timer exists from start-up");
        return timer.count();
    }
}
