package dev.eventline.packaged;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.UUID;

import org.junit.jupiter.api.Test;

import dev.eventline.testsupport.BrokerResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusIntegrationTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.path.json.JsonPath;
import io.restassured.specification.RequestSpecification;

/**
 * The packaged application as a Knative service: CloudEvents over HTTP in binary and structured mode, routed by
 * type to the functions, answered 2xx / 4xx / 5xx, and the dead-letter sink.
 */
@QuarkusIntegrationTest
@QuarkusTestResource(BrokerResource.class)
@TestProfile(HttpTriggerITProfile.class)
class HttpTriggerIT {

    private final String run = UUID.randomUUID().toString().substring(0, 8);

    /** A caller as a RabbitmqSource is one: the trigger's token as the password of Basic authentication. */
    private static RequestSpecification source() {
        return given().auth().preemptive().basic("eventline", HttpTriggerITProfile.TRIGGER_TOKEN);
    }

    private static RequestSpecification binary(String id, String type, String data) {
        return source().header("ce-specversion", "1.0").header("ce-id", id).header("ce-source", "/it")
                .header("ce-type", type).contentType("application/json").body(data);
    }

    private static String structured(String id, String type, String data) {
        return "{\"specversion\":\"1.0\",\"id\":\"" + id + "\",\"source\":\"/it\",\"type\":\"" + type
                + "\",\"subject\":\"" + id + "\",\"data\":" + data + "}";
    }

    @Test
    void answersEachOutcomeWithTheStatusTheSourceActsOn() {
        String a = "a-" + run;
        binary(a + "-v1", "order.created", "{\"orderId\":\"" + a + "\",\"version\":1}").post("/").then().statusCode(204);
        source().contentType("application/cloudevents+json")
                .body(structured(a + "-v2", "order.paid", "{\"orderId\":\"" + a + "\",\"version\":2,\"amount\":5}"))
                .post("/").then().statusCode(204);
        // the same event again (a redelivery): done, not applied twice
        binary(a + "-v1", "order.created", "{\"orderId\":\"" + a + "\",\"version\":1}").post("/").then().statusCode(200);
        JsonPath report = source().get("/orderReport").then().statusCode(200).extract().jsonPath();
        assertEquals(2, report.getLong("applied"));
        assertEquals(0, report.getLong("violations"));

        // can never succeed: 4xx (the source dead-letters without retrying)
        binary("bad-" + run, "order.created", "{\"orderId\":\"x\",\"version\":\"one\"}").post("/").then()
                .statusCode(400).body("error", equalTo("invalid-data"));
        binary("n-" + run, "notification.requested", "{}").post("/").then().statusCode(400)
                .body("error", equalTo("type-not-served"));
        source().contentType("application/cloudevents+json").body("{\"specversion\":\"1.0\"}").post("/").then()
                .statusCode(400);

        // may succeed later: 5xx (retried with the source's backoff); orders.max-tracked is 3
        binary("b-" + run + "-v1", "order.created", "{\"orderId\":\"b-" + run + "\",\"version\":1}").post("/").then()
                .statusCode(204);
        binary("c-" + run + "-v1", "order.created", "{\"orderId\":\"c-" + run + "\",\"version\":1}").post("/").then()
                .statusCode(204);
        binary("d-" + run + "-v1", "order.created", "{\"orderId\":\"d-" + run + "\",\"version\":1}").post("/").then()
                .statusCode(500).body("error", equalTo("handler-failed"));
    }

    @Test
    void everyPathOfTheTriggerNeedsItsToken() {
        String event = structured("noauth-" + run, "order.created", "{\"orderId\":\"noauth-" + run + "\",\"version\":1}");
        given().contentType("application/cloudevents+json").body(event).post("/").then().statusCode(401)
                .header("WWW-Authenticate", startsWith("Basic"));
        given().contentType("application/cloudevents+json").body(event).post("/dead-letters").then().statusCode(401);
        given().get("/orderReport").then().statusCode(401);
        given().auth().oauth2("it-wrong-token-0123456789").contentType("application/cloudevents+json").body(event)
                .post("/").then().statusCode(401);
        given().auth().oauth2(HttpTriggerITProfile.TRIGGER_TOKEN).get("/orderReport").then().statusCode(200);
        given().get("/q/health/live").then().statusCode(200);
    }

    @Test
    void theDeadLetterSinkStoresEventsInTheFunctionsDeadLetterQueue() {
        String id = "dead-" + run;
        binary(id, "order.shipped", "{\"orderId\":\"" + id + "\",\"version\":9}").header("ce-subject", id)
                .header("ce-knativeerrorcode", "500").post("/dead-letters").then().statusCode(202);
        await().atMost(Duration.ofSeconds(30)).until(() -> given().auth().oauth2(HttpTriggerITProfile.TOKEN)
                .queryParam("id", id).get("/admin/functions/orders/dead-letters").then().statusCode(200).extract()
                .jsonPath().getInt("matched") == 1);
        JsonPath listed = given().auth().oauth2(HttpTriggerITProfile.TOKEN).queryParam("id", id)
                .get("/admin/functions/orders/dead-letters").then().extract().jsonPath();
        assertEquals("knative-delivery-failed (HTTP 500)", listed.getString("events[0].reason"));
        assertEquals(id, listed.getString("events[0].key"));

        JsonPath partitions = given().auth().oauth2(HttpTriggerITProfile.TOKEN).get("/admin/functions/orders/partitions")
                .then().statusCode(200).extract().jsonPath();
        assertEquals(8, partitions.getList("queues").size(), "the orders function's partitions");
        assertEquals(0, partitions.getInt("queues[0].consumers"), "the HTTP trigger consumes no partition");
    }
}
