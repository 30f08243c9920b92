package dev.eventline.trigger;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;

import dev.eventline.fault.DeadLetterFormat;
import dev.eventline.functions.notifications.NotificationSender;
import dev.eventline.functions.orders.OrderLifecycle;
import dev.eventline.testsupport.BrokerResource;
import dev.eventline.testsupport.TestBroker;
import dev.eventline.topology.Names;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * Bad messages that reach a partition queue around the gate, and events whose handler keeps failing, go to
 * the function's dead-letter queue with the reason in headers; the consumer keeps going.
 */
@QuarkusTest
@QuarkusTestResource(BrokerResource.class)
class DeadLetterTest {

    @Inject
    Names names;
    @Inject
    OrderLifecycle orders;
    @Inject
    NotificationSender notifications;

    @Test
    void deadLettersMalformedMessagesAndKeepsConsuming() throws Exception {
        String marker = "garbage-" + UUID.randomUUID();
        try (Connection c = TestBroker.get().connectionFactory().newConnection("dlt-" + marker)) {
            Channel ch = c.createChannel();
            ch.basicPublish("", names.partition("orders", 0),
                    new AMQP.BasicProperties.Builder().messageId(marker).build(),
                    "this is not a CloudEvent".getBytes(StandardCharsets.UTF_8));
            ch.basicPublish("", names.partition("orders", 0),
                    new AMQP.BasicProperties.Builder().messageId(marker + "-2").build(),
                    "{\"specversion\":\"1.0\",\"id\":\"x\",\"source\":\"/t\",\"type\":\"order.unknown\"}"
                            .getBytes(StandardCharsets.UTF_8));
            GetResponse first = awaitDeadLetter(ch, marker);
            assertTrue(String.valueOf(first.getProps().getHeaders().get(DeadLetterFormat.REASON)).contains("not JSON"),
                    String.valueOf(first.getProps().getHeaders()));
            assertEquals(names.partition("orders", 0),
                    String.valueOf(first.getProps().getHeaders().get(DeadLetterFormat.ORIGINAL_QUEUE)));
            GetResponse second = awaitDeadLetter(ch, marker + "-2");
            assertTrue(String.valueOf(second.getProps().getHeaders().get(DeadLetterFormat.REASON)).contains("not owned"));
        }
        // the partition still consumes: a valid event behind the bad ones is processed
        String order = "after-garbage-" + UUID.randomUUID();
        given().contentType("application/cloudevents+json").body("{\"specversion\":\"1.0\",\"id\":\"" + order
                + "\",\"source\":\"/t\",\"type\":\"order.created\",\"subject\":\"" + order
                + "\",\"data\":{\"orderId\":\"" + order + "\",\"version\":1}}").post("/events").then().statusCode(202);
        await().atMost(Duration.ofSeconds(30)).until(() -> orders.order(order) != null);
    }

    /**
     * Messages published around the gate with attributes and headers no producer through the gate could send:
     * each is dead-lettered once with a reason or processed, the channel survives (no redelivery loop), and the
     * partition goes on.
     */
    @Test
    void hostileMessagesAroundTheGateNeverStopTheConsumer() throws Exception {
        String marker = "hostile-" + UUID.randomUUID();
        String queue = names.partition("orders", 1);
        try (Connection c = TestBroker.get().connectionFactory().newConnection("dlt-" + marker)) {
            Channel ch = c.createChannel();
            String[] bodies = {
                event(marker + "-time", "\"time\":\"garbage\","),
                event(marker + "-far", "\"time\":\"+99999-01-01T00:00:00Z\","),
                event(marker + "-data", "\"data\":[[[[[[[[[[\"deep\"]]]]]]]]]],"),
                "[1,2,3]",
                "",
                "{\"specversion\":\"1.0\",\"id\":{\"nested\":true},\"type\":\"order.created\"}",
                event("x".repeat(10_000), ""), // an id no gate lets through: bounded in the consumer too
            };
            for (int i = 0; i < bodies.length; i++) {
                java.util.Map<String, Object> headers = new java.util.HashMap<>();
                headers.put("eventline-accepted-ms", i % 2 == 0 ? "not a number" : Long.MAX_VALUE);
                headers.put(DeadLetterFormat.ATTEMPTS, i % 2 == 0 ? "x" : -7);
                headers.put(DeadLetterFormat.FIRST_FAILURE, "garbage");
                ch.basicPublish("", queue, new AMQP.BasicProperties.Builder().messageId(marker + "-" + i)
                        .headers(headers).build(), bodies[i].getBytes(StandardCharsets.UTF_8));
            }
            for (int i = 0; i < bodies.length; i++) {
                if (i == 1) {
                    continue; // a valid event from the far future: processed
                }
                GetResponse dead = awaitDeadLetter(ch, marker + "-" + i);
                assertTrue(String.valueOf(dead.getProps().getHeaders().get(DeadLetterFormat.REASON)).startsWith("rejected"),
                        i + ": " + dead.getProps().getHeaders());
                assertEquals(queue, String.valueOf(dead.getProps().getHeaders().get(DeadLetterFormat.ORIGINAL_QUEUE)));
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> orders.order(marker + "-far") != null);
            assertEquals(1, ch.queueDeclarePassive(queue).getConsumerCount(), "the consumer survived");
        }
    }

    private static String event(String order, String extra) {
        return "{\"specversion\":\"1.0\",\"id\":\"" + order + "\",\"source\":\"/t\",\"type\":\"order.created\","
                + "\"subject\":\"" + order + "\"," + extra + (extra.contains("\"data\"") ? ""
                        : "\"data\":{\"orderId\":\"" + order + "\",\"version\":1},")
                + "\"partitionkey\":\"" + order + "\"}";
    }

    @Test
    void retriesAFailingHandlerThenDeadLettersWithItsHistory() throws Exception {
        String recipient = "r-" + UUID.randomUUID();
        String id = "bad-address-" + recipient;
        long sentBefore = notifications.report().sent();
        given().contentType("application/cloudevents+json").body("{\"specversion\":\"1.0\",\"id\":\"" + id
                + "\",\"source\":\"/t\",\"type\":\"notification.requested\",\"subject\":\"" + recipient
                + "\",\"data\":{\"recipient\":\"" + recipient + "\",\"channel\":\"email\",\"address\":\"nowhere\"}}")
                .post("/events").then().statusCode(202);
        try (Connection c = TestBroker.get().connectionFactory().newConnection("dlt-" + recipient)) {
            Channel ch = c.createChannel();
            GetResponse dead = awaitDeadLetter(ch, names.deadLetterQueue("notifications"), id);
            Map<String, Object> h = dead.getProps().getHeaders();
            assertEquals(3, ((Number) h.get(DeadLetterFormat.ATTEMPTS)).intValue(), "maxAttempts of notifications is 3");
            assertEquals("retries exhausted", String.valueOf(h.get(DeadLetterFormat.REASON)));
            assertEquals(IllegalArgumentException.class.getName(), String.valueOf(h.get(DeadLetterFormat.ERROR_CLASS)));
            assertTrue(String.valueOf(h.get(DeadLetterFormat.ERROR_MESSAGE)).contains("invalid email address"));
            assertNotNull(h.get(DeadLetterFormat.FIRST_FAILURE));
            assertNotNull(h.get(DeadLetterFormat.LAST_FAILURE));
        }
        assertEquals(sentBefore, notifications.report().sent());
    }

    private GetResponse awaitDeadLetter(Channel ch, String messageId) {
        return awaitDeadLetter(ch, names.deadLetterQueue("orders"), messageId);
    }

    /** Reads the dead-letter queue until the message appears; the others go back when the channel closes. */
    private static GetResponse awaitDeadLetter(Channel unused, String queue, String messageId) {
        AtomicReference<GetResponse> found = new AtomicReference<>();
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            try (Connection c = TestBroker.get().connectionFactory().newConnection("dlq-reader");
                    Channel ch = c.createChannel()) {
                for (GetResponse r = ch.basicGet(queue, false); r != null; r = ch.basicGet(queue, false)) {
                    if (messageId.equals(r.getProps().getMessageId())) {
                        ch.basicAck(r.getEnvelope().getDeliveryTag(), false);
                        found.set(r);
                        return true;
                    }
                }
                return false;
            }
        });
        return found.get();
    }
}
