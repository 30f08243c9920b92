package dev.eventline.gate;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.UUID;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;

import dev.eventline.testsupport.BrokerResource;
import dev.eventline.testsupport.TestBroker;
import dev.eventline.topology.Names;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/**
 * A partition queue at its broker-side cap ({@code x-max-length}, overflow reject-publish) nacks; the gate
 * answers 503 naming exactly the events that were not confirmed, never 202.
 */
@QuarkusTest
@QuarkusTestResource(BrokerResource.class)
@TestProfile(BrokerRefusalTest.TinyFunction.class)
class BrokerRefusalTest {

    @Inject
    Names names;
    @Inject
    io.micrometer.core.instrument.MeterRegistry registry;

    public static class TinyFunction implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            // the gate reads depths once, at start: its view goes stale, as when producers bypass it
            return Map.of("eventline.functions.dir", "src/test/resources/functions-tiny",
                    "eventline.functions.enabled", "none", "eventline.monitor.interval", "1h");
        }
    }

    private static String event(String id) {
        return "{\"specversion\":\"1.0\",\"id\":\"" + id + "\",\"source\":\"/t\",\"type\":\"tiny.event\",\"subject\":\"k\"}";
    }

    @Test
    void aPublisherBypassingTheGateGetsNacksAndTheGateAnswers503ForExactlyTheRefusedEvents() throws Exception {
        String run = UUID.randomUUID().toString();
        // the gate has read the (empty) queue's depth once; it reads it again only in an hour
        await().atMost(java.time.Duration.ofSeconds(30))
                .until(() -> registry.find("eventline.function.depth").tag("function", "tiny").gauge() != null);
        // a producer publishing straight to the exchange, with confirms: the cap (3) holds, the rest is nacked
        try (Connection c = TestBroker.get().connectionFactory().newConnection("bypass-" + run)) {
            Channel ch = c.createChannel();
            ch.queuePurge(names.partition("tiny", 0));
            ch.confirmSelect();
            int acked = 0;
            int nacked = 0;
            for (int i = 0; i < 5; i++) {
                ch.basicPublish(names.exchange("tiny"), "k", true,
                        new AMQP.BasicProperties.Builder().deliveryMode(2).messageId(run + "-direct-" + i).build(),
                        event(run + "-direct-" + i).getBytes(StandardCharsets.UTF_8));
                if (ch.waitForConfirms(10_000)) {
                    acked++;
                } else {
                    nacked++;
                }
            }
            // a quorum queue checks its length before it appends: it may take one more than its cap
            assertTrue(acked == 3 || acked == 4, "acked " + acked);
            assertEquals(5 - acked, nacked);
            assertEquals(acked, ch.queueDeclarePassive(names.partition("tiny", 0)).getMessageCount(),
                    "every acked event is in the queue: nothing was dropped to make room");
        }
        // the gate's view of the depth is stale here (it read it once, at start), so it publishes; the broker
        // refuses, and the producer learns exactly which events were not accepted
        given().contentType("application/cloudevents+json").body(event(run + "-1")).post("/events").then()
                .statusCode(503).body("error", equalTo("unavailable")).body("failed", hasSize(1))
                .body("failed[0].id", equalTo(run + "-1")).body("failed[0].reason", containsString("refused"));
        String batch = "[" + event(run + "-a") + "," + event(run + "-b") + "]";
        given().contentType("application/cloudevents-batch+json").body(batch).post("/events").then()
                .statusCode(503).body("failed", hasSize(2)).body("failed.id", org.hamcrest.Matchers.contains(run + "-a", run + "-b"));
    }
}
