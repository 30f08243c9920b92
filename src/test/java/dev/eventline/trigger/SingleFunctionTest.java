package dev.eventline.trigger;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.Map;
import java.util.UUID;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;

import dev.eventline.config.FunctionCatalog;
import dev.eventline.functions.orders.OrderLifecycle;
import dev.eventline.testsupport.BrokerResource;
import dev.eventline.testsupport.TestBroker;
import dev.eventline.topology.Names;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/** A deployment that enables one function consumes only that function's partitions; the gate still takes all types. */
@QuarkusTest
@QuarkusTestResource(BrokerResource.class)
@TestProfile(SingleFunctionTest.OrdersOnly.class)
class SingleFunctionTest {

    public static class OrdersOnly implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("eventline.functions.enabled", "orders");
        }
    }

    @Inject
    OrderLifecycle orders;
    @Inject
    Names names;
    @Inject
    FunctionCatalog catalog;

    @Test
    void consumesOnlyTheEnabledFunction() throws Exception {
        String id = UUID.randomUUID().toString();
        given().contentType("application/cloudevents+json").body("{\"specversion\":\"1.0\",\"id\":\"n-" + id
                + "\",\"source\":\"/t\",\"type\":\"notification.optout\",\"subject\":\"" + id
                + "\",\"data\":{\"recipient\":\"" + id + "\"}}").post("/events").then().statusCode(202);
        given().contentType("application/cloudevents+json").body("{\"specversion\":\"1.0\",\"id\":\"o-" + id
                + "\",\"source\":\"/t\",\"type\":\"order.created\",\"subject\":\"" + id
                + "\",\"data\":{\"orderId\":\"" + id + "\",\"version\":1}}").post("/events").then().statusCode(202);
        await().atMost(Duration.ofSeconds(30)).until(() -> orders.order(id) != null);
        int partitions = catalog.byName("notifications").orElseThrow().partitions();
        try (Connection c = TestBroker.get().connectionFactory().newConnection("single-function-test")) {
            Channel ch = c.createChannel();
            long queued = 0;
            long consumers = 0;
            for (String q : names.partitions("notifications", partitions)) {
                var ok = ch.queueDeclarePassive(q);
                queued += ok.getMessageCount();
                consumers += ok.getConsumerCount();
            }
            assertEquals(1, queued, "the notification waits for a notifications instance");
            assertEquals(0, consumers, "no consumer on the notifications partitions");
            for (String q : names.partitions("notifications", partitions)) {
                ch.queuePurge(q); // not for the applications of other tests
            }
        }
    }
}
