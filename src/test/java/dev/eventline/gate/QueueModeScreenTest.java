package dev.eventline.gate;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import dev.eventline.functions.notifications.NotificationSender;
import dev.eventline.functions.orders.OrderLifecycle;
import dev.eventline.http.EventReader;
import dev.eventline.testsupport.BrokerResource;
import io.quarkus.funqy.runtime.FunctionInvoker;
import io.quarkus.funqy.runtime.FunctionRecorder;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;

/**
 * With the queue trigger nothing reaches a handler over HTTP: every {@code @Funq} function of the application,
 * {@code /} and any other path answer 404 with the gate's JSON error, for GET and POST, with and without
 * CloudEvent headers. Only the gate, admin, health and metrics paths, and a plain GET of a read-only report, pass.
 */
@QuarkusTest
@QuarkusTestResource(BrokerResource.class)
@TestProfile(DoorProfile.class)
class QueueModeScreenTest {

    @Inject
    NotificationSender notifications;
    @Inject
    OrderLifecycle orders;

    private final String run = UUID.randomUUID().toString().substring(0, 8);

    /** The request shapes Funqy's Knative binding dispatches on. */
    private List<RequestSpecification> shapes(String type) {
        String data = "{\"orderId\":\"" + run + "\",\"version\":1,\"recipient\":\"" + run + "\"}";
        return List.of(given(),
                given().contentType("application/json").body(data),
                given().header("ce-id", run).header("ce-specversion", "1.0").header("ce-source", "/t")
                        .header("ce-type", type).contentType("application/json").body(data),
                given().contentType("application/cloudevents+json").body("{\"specversion\":\"1.0\",\"id\":\"" + run
                        + "\",\"source\":\"/t\",\"type\":\"" + type + "\",\"data\":" + data + "}"));
    }

    @Test
    void noFunctionAnswersOverHttpInQueueMode() {
        long preferenceChanges = notifications.report().preferenceChanges();
        List<String> paths = new ArrayList<>(List.of("/", "/events/x", "/admin/functions/tiny/dead-letters",
                "/notificationOptout/", "//notificationOptout", "/q/../notificationOptout", "/%6EotificationOptout",
                "/NOTIFICATIONOPTOUT"));
        List<String> names = functionNames();
        assertTrue(names.containsAll(List.of("orderCreated", "notificationOptout", "orderReport")), names.toString());
        names.forEach(name -> paths.add("/" + name));
        for (String path : paths) {
            for (RequestSpecification shape : shapes("notification.optout")) {
                refused(shape.post(path), "POST " + path);
            }
            for (RequestSpecification shape : shapes("order.created").subList(1, 4)) {
                refused(shape.get(path), "GET " + path + " with a body or CloudEvent headers");
            }
            if (!QueueModeScreen.reports().contains(path.substring(1))) {
                refused(given().get(path), "GET " + path);
            }
        }
        assertEquals(preferenceChanges, notifications.report().preferenceChanges(), "no opt-out was applied");
        assertNull(orders.order(run), "no order was created");
    }

    @Test
    void theGateHealthMetricsAndPlainReportsStillAnswer() {
        given().get("/q/health/live").then().statusCode(200);
        given().get("/q/metrics").then().statusCode(200);
        given().contentType(EventReader.STRUCTURED).body("{}").post("/events").then().statusCode(401);
        given().get("/events").then().statusCode(405).header("Allow", "POST");
        assertEquals(Map.of("orderReport", 200, "notificationReport", 200),
                Map.of("orderReport", given().get("/orderReport").statusCode(),
                        "notificationReport", given().get("/notificationReport").statusCode()));
    }

    /** The screen's own answer: 404 and one of its two error codes, so no route behind it answered. */
    private static void refused(Response r, String what) {
        assertEquals(404, r.statusCode(), what + ": " + r.asString());
        assertTrue(List.of("not-found", "http-trigger-off").contains(r.jsonPath().getString("error")),
                what + ": " + r.asString());
    }

    private static List<String> functionNames() {
        List<String> names = new ArrayList<>();
        for (FunctionInvoker f : FunctionRecorder.registry.invokers()) {
            names.add(f.getName());
        }
        return names;
    }
}
