package dev.eventline.functions;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.eventline.functions.notifications.NotificationSender;
import dev.eventline.functions.orders.OrderLifecycle;
import dev.eventline.testsupport.BrokerResource;
import dev.eventline.testsupport.GateClient;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.path.json.JsonPath;

/**
 * The example functions' state stays within its bounds in bytes whatever the events carry: values of 100 KB (the
 * probe kept five 8 MB values for good) are dead-lettered at once as non-retryable and leave nothing behind, and a
 * stream of large orders makes the order lifecycle forget shipped orders instead of growing. Through the gate and
 * the partitions, as in production; the bounds are read from the structures' own counts, not the heap.
 */
@QuarkusTest
@QuarkusTestResource(BrokerResource.class)
@TestProfile(BoundedStateTest.SmallState.class)
class BoundedStateTest {

    static final long ORDERS_MAX_BYTES = 32_768;
    static final long OPT_OUTS_MAX_BYTES = 16_384;
    static final String TOKEN = "bounded-state-admin-token-0123";

    public static class SmallState implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("orders.max-order-bytes", "2048", "orders.max-bytes", String.valueOf(ORDERS_MAX_BYTES),
                    "notifications.max-entry-bytes", "2048",
                    "notifications.max-opt-out-bytes", String.valueOf(OPT_OUTS_MAX_BYTES),
                    "eventline.admin.enabled", "true", "eventline.admin.token", TOKEN);
        }
    }

    @Inject
    OrderLifecycle orders;
    @Inject
    NotificationSender notifications;

    @TestHTTPResource("/events")
    URI events;

    private final String run = UUID.randomUUID().toString().substring(0, 8);

    @Test
    void oversizedValuesAreDeadLetteredAtOnceAndLeaveNothingBehind() {
        String huge = "x".repeat(100_000);
        List<ObjectNode> batch = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            batch.add(GateClient.event(run + "-big-order-" + i, "order.created", run + "-k" + i,
                    Map.of("orderId", huge + i, "version", 1)));
            batch.add(GateClient.event(run + "-big-optout-" + i, "notification.optout", run + "-r" + i,
                    Map.of("recipient", huge + i)));
        }
        new GateClient(events).deliver(batch, 5);
        for (int i = 0; i < 5; i++) {
            assertRefusedForGood("orders", run + "-big-order-" + i, "orders.max-order-bytes");
            assertRefusedForGood("notifications", run + "-big-optout-" + i, "notifications.max-entry-bytes");
            assertNull(orders.order(huge + i));
        }
        assertTrue(orders.bytes() <= ORDERS_MAX_BYTES, orders.bytes() + " bytes of orders");
        assertTrue(notifications.bytes().optOuts() <= OPT_OUTS_MAX_BYTES, notifications.bytes().toString());
    }

    @Test
    void manyLargeOrdersStayWithinTheBytesByForgettingShippedOnes() {
        long appliedBefore = orders.report().applied();
        String stem = run + "-" + "o".repeat(800) + "-";
        List<ObjectNode> batch = new ArrayList<>();
        int count = 40; // about 1.8 KB an order: 40 would take twice the bound
        for (int o = 0; o < count; o++) {
            String key = run + "-lk" + o;
            batch.add(order(stem + o, key, "order.created", 1));
            batch.add(order(stem + o, key, "order.paid", 2));
            batch.add(order(stem + o, key, "order.shipped", 3));
        }
        new GateClient(events).deliver(batch, 5);
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(50)).until(() -> {
            assertTrue(orders.bytes() <= ORDERS_MAX_BYTES, orders.bytes() + " bytes of orders");
            return orders.report().applied() - appliedBefore == 3L * count;
        });
        long kept = java.util.stream.IntStream.range(0, count).filter(o -> orders.order(stem + o) != null).count();
        assertTrue(kept < count && kept > 0, kept + " of " + count + " orders kept");
        assertEquals(0, orders.report().violations());
    }

    private static ObjectNode order(String orderId, String key, String type, int version) {
        return GateClient.event(key + "-v" + version, type, key,
                Map.of("orderId", orderId, "version", version));
    }

    /** Waits for the event in the function's dead-letter queue, dead-lettered on its first attempt as non-retryable. */
    private static void assertRefusedForGood(String function, String id, String setting) {
        JsonPath[] found = new JsonPath[1];
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> {
            found[0] = given().auth().oauth2(TOKEN).queryParam("id", id)
                    .get("/admin/functions/" + function + "/dead-letters").then().statusCode(200).extract().jsonPath();
            return found[0].getInt("matched") == 1;
        });
        assertEquals(1, found[0].getInt("events[0].attempts"), id + ": never retried");
        assertTrue(found[0].getString("events[0].errorMessage").contains(setting), found[0].prettify());
    }
}
