package dev.eventline.gate;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.eventline.functions.orders.OrderLifecycle;
import dev.eventline.testsupport.BrokerResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;

/** POST /events against a real broker: every content mode accepted and processed, every bad input refused. */
@QuarkusTest
@QuarkusTestResource(BrokerResource.class)
class GateTest {

    @Inject
    OrderLifecycle orders;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String run = UUID.randomUUID().toString();

    private String created(String id, String order) {
        return """
                {"specversion":"1.0","id":"%s","source":"/test","type":"order.created","subject":"%s",
                 "data":{"orderId":"%s","version":1}}""".formatted(id, order, order);
    }

    private void awaitVersion(String order, long version) {
        await().atMost(Duration.ofSeconds(30)).until(() -> orders.order(order) != null
                && orders.order(order).version() == version);
    }

    @Test
    void acceptsStructuredModeAndProcessesIt() {
        String order = run + "-structured";
        given().contentType("application/cloudevents+json").body(created(run + "-1", order))
                .post("/events").then().statusCode(202).body("accepted", equalTo(1));
        awaitVersion(order, 1);
    }

    @Test
    void whatTheGateAcceptsTheTriggerProcessesANumericKeyAndALongSubjectThatIsNotTheKey() {
        // the gate routes by a scalar key's text and bounds only the attribute it routes by; the trigger
        // applies the same rule (cloudevents.AttributeBounds), so it does not dead-letter what was accepted
        String order = run + "-numeric-key";
        String event = """
                {"specversion":"1.0","id":"%s-n1","source":"/test","type":"order.created","partitionkey":42,
                 "subject":"%s\\ud800","data":{"orderId":"%s","version":1}}""".formatted(run, "s".repeat(300), order);
        post(event).statusCode(202);
        awaitVersion(order, 1);
    }

    @Test
    void acceptsBinaryModeWithPartitionKeyHeader() {
        String order = run + "-binary";
        given().header("ce-specversion", "1.0").header("ce-id", run + "-b1").header("ce-source", "/test")
                .header("ce-type", "order.created").header("ce-partitionkey", order)
                .contentType("application/json").body("{\"orderId\":\"" + order + "\",\"version\":1}")
                .post("/events").then().statusCode(202);
        awaitVersion(order, 1);
    }

    @Test
    void acceptsBatchesInOrder() {
        String order = run + "-batch";
        String batch = "[" + created(run + "-c", order) + ","
                + """
                        {"specversion":"1.0","id":"%s-p","source":"/t","type":"order.paid","partitionkey":"%s",
                         "data":{"orderId":"%s","version":2,"amount":5}},
                        {"specversion":"1.0","id":"%s-s","source":"/t","type":"order.shipped","partitionkey":"%s",
                         "data":{"orderId":"%s","version":3}}]""".formatted(run, order, order, run, order, order);
        given().contentType("application/cloudevents-batch+json").body(batch)
                .post("/events").then().statusCode(202).body("accepted", equalTo(3));
        awaitVersion(order, 3);
        assertEquals(OrderLifecycle.Status.SHIPPED, orders.order(order).status());
        assertEquals(0, orders.order(order).violations());
    }

    @Test
    void rejectsABatchWholeWhenOneEventIsInvalid() {
        String order = run + "-all-or-nothing";
        String bad = "[" + created(run + "-x1", order) + ","
                + "{\"specversion\":\"1.0\",\"source\":\"/t\",\"type\":\"order.paid\",\"subject\":\"" + order + "\"}]";
        given().contentType("application/cloudevents-batch+json").body(bad)
                .post("/events").then().statusCode(400)
                .body("error", equalTo("invalid-event")).body("index", equalTo(1)).body("field", equalTo("id"));
        // had the valid first event been published, this second 'created' of the same order (same partition,
        // behind it) would be an ordering violation
        given().contentType("application/cloudevents+json").body(created(run + "-x2", order))
                .post("/events").then().statusCode(202);
        awaitVersion(order, 1);
        assertEquals(0, orders.order(order).violations());
    }

    @Test
    void refusesMissingRequiredAttributes() {
        for (String attribute : new String[] { "id", "source", "type", "specversion" }) {
            String event = created(run + "-m", run + "-m").replaceFirst("\"" + attribute + "\":\"[^\"]*\",", "");
            given().contentType("application/cloudevents+json").body(event).post("/events").then()
                    .statusCode(400).body("field", equalTo(attribute))
                    .body("message", containsString("'" + attribute + "' is missing"));
        }
    }

    @Test
    void refusesUnknownTypeWrongSpecversionAndMissingKey() {
        given().contentType("application/cloudevents+json")
                .body("{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"/t\",\"type\":\"order.lost\",\"subject\":\"k\"}")
                .post("/events").then().statusCode(400).body("field", equalTo("type"))
                .body("message", containsString("unknown event type 'order.lost'"));
        given().contentType("application/cloudevents+json")
                .body("{\"specversion\":\"0.3\",\"id\":\"1\",\"source\":\"/t\",\"type\":\"order.created\",\"subject\":\"k\"}")
                .post("/events").then().statusCode(400).body("field", equalTo("specversion"));
        given().contentType("application/cloudevents+json")
                .body("{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"/t\",\"type\":\"order.created\"}")
                .post("/events").then().statusCode(400).body("field", equalTo("partitionkey"));
    }

    @Test
    void refusesMalformedJsonAndBadAttributes() {
        given().contentType("application/cloudevents+json").body("{not json").post("/events").then()
                .statusCode(400).body("message", containsString("not valid JSON"));
        given().contentType("application/cloudevents-batch+json").body("{}").post("/events").then()
                .statusCode(400).body("message", containsString("JSON array"));
        given().contentType("application/cloudevents+json")
                .body("{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"/t\",\"type\":\"order.created\",\"subject\":\"k\",\"time\":\"yesterday\"}")
                .post("/events").then().statusCode(400).body("field", equalTo("time"));
        given().contentType("application/cloudevents+json")
                .body("{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"/t\",\"type\":\"order.created\",\"subject\":\"k\",\"Bad-Name\":\"x\"}")
                .post("/events").then().statusCode(400).body("field", equalTo("Bad-Name"));
        given().header("ce-specversion", "1.0").header("ce-id", "1").header("ce-source", "/t")
                .header("ce-type", "order.created").header("ce-subject", "k").contentType("application/json")
                .body("{broken").post("/events").then().statusCode(400);
        given().header("ce-specversion", "1.0").header("ce-id", "1").header("ce-source", "/t")
                .header("ce-type", "order.created").header("ce-subject", "100%").contentType("application/json")
                .body("{}").post("/events").then().statusCode(400).body("field", equalTo("subject"));
    }

    /** A structured event of order.created; the attributes given replace or add to the defaults. */
    private String event(String order, Map<String, String> attributes) {
        ObjectNode e = (ObjectNode) JSON.valueToTree(Map.of("specversion", "1.0", "id", run + "-" + order,
                "source", "/test", "type", "order.created", "subject", order));
        e.set("data", JSON.valueToTree(Map.of("orderId", order, "version", 1)));
        attributes.forEach(e::put);
        return e.toString();
    }

    private io.restassured.response.ValidatableResponse post(String event) {
        return given().contentType("application/cloudevents+json; charset=UTF-8")
                .body(event.getBytes(StandardCharsets.UTF_8)).post("/events").then();
    }

    @Test
    void refusesAttributesLongerThanTheAmqpFieldsTheyBecome() {
        String order = run + "-bounds";
        Map<String, String> tooLong = Map.of("id", "é".repeat(128), "type", "t".repeat(256),
                "partitionkey", "€".repeat(85) + "x", "source", "s".repeat(1025));
        tooLong.forEach((attribute, value) -> post(event(order, Map.of(attribute, value))).statusCode(400)
                .body("field", equalTo(attribute)).body("message", containsString("bytes in UTF-8")));
        post(event(order, Map.of("subject", "k".repeat(256)))).statusCode(400).body("field", equalTo("subject"))
                .body("message", containsString("routing key"));
        post(event(order, Map.of("id", "x".repeat(300)))).statusCode(400).body("field", equalTo("id"));
        // an escaped unpaired surrogate is valid JSON, but no UTF-8 (the AMQP message-id) can carry it
        post(event(order, Map.of("id", "LONE")).replace("LONE", "a\\ud800b")).statusCode(400)
                .body("field", equalTo("id"))
                .body("message", containsString("not valid Unicode"));
        post(event(order, Map.of("time", "+99999-01-01T00:00:00Z"))).statusCode(400).body("field", equalTo("time"));
        given().header("ce-specversion", "1.0").header("ce-id", "y".repeat(300)).header("ce-source", "/t")
                .header("ce-type", "order.created").header("ce-subject", order).contentType("application/json")
                .body("{\"orderId\":\"" + order + "\",\"version\":1}").post("/events").then().statusCode(400)
                .body("field", equalTo("id"));
        assertNull(orders.order(order), "nothing of a refused event is processed");
    }

    @Test
    void acceptsAttributesAtExactlyTheirLimitInMultiByteUtf8() {
        String order = "€".repeat(85); // 255 bytes: the longest routing key
        post(event(order, Map.of("id", "é".repeat(127) + "a", "source", "ü".repeat(512)))).statusCode(202);
        awaitVersion(order, 1);
    }

    @Test
    void answers413ForOversizeEventsBodiesAndBatches() {
        String order = run + "-big";
        String big = "{\"specversion\":\"1.0\",\"id\":\"" + run + "-big\",\"source\":\"/t\",\"type\":\"order.created\","
                + "\"subject\":\"" + order + "\",\"data\":{\"orderId\":\"" + order + "\",\"version\":1,\"sku\":\""
                + "x".repeat(300_000) + "\"}}";
        given().contentType("application/cloudevents+json").body(big).post("/events").then()
                .statusCode(413).body("error", equalTo("event-too-large"));
        given().contentType("application/cloudevents+json").body("x".repeat(5_000_000)).post("/events").then()
                .statusCode(413).body("error", equalTo("request-too-large"));
        StringBuilder batch = new StringBuilder("[");
        for (int i = 0; i < 1001; i++) {
            batch.append(i == 0 ? "" : ",").append(created(run + "-n" + i, run + "-n"));
        }
        given().contentType("application/cloudevents-batch+json").body(batch.append("]").toString())
                .post("/events").then().statusCode(413).body("error", equalTo("batch-too-large"));
        assertNull(orders.order(order), "an oversize event must not be processed");
    }

    @Test
    void answers415ForContentThatIsNotACloudEvent() {
        given().contentType("text/xml").body("<event/>").post("/events").then().statusCode(415)
                .body("error", equalTo("unsupported-media-type"));
        given().contentType("application/json").body("{}").post("/events").then().statusCode(415);
        given().header("ce-specversion", "1.0").header("ce-id", "1").header("ce-source", "/t")
                .header("ce-type", "order.created").header("ce-subject", "k")
                .contentType("application/octet-stream").body(new byte[] { 1, 2, 3 }).post("/events").then()
                .statusCode(415);
    }

    /** Each accepted request's publish to last confirm is timed, per function: the broker's share of latency. */
    @Test
    void timesTheBrokersConfirmOfEachAcceptedRequest() {
        double before = confirmCount();
        String order = run + "-confirm-timed";
        String batch = "[" + created(run + "-t1", order) + ","
                + created(run + "-t2", order + "-other") + "]";
        given().contentType("application/cloudevents-batch+json").body(batch).post("/events").then().statusCode(202);
        // one batch of one function: one request timed (the timer is recorded before the answer goes out)
        assertEquals(before + 1, confirmCount());
        given().contentType("text/plain").body("x").post("/events").then().statusCode(415);
        assertEquals(before + 1, confirmCount(), "a refused request publishes nothing and is not timed");
    }

    private static double confirmCount() {
        String scrape = given().get("/q/metrics").then().statusCode(200).extract().asString();
        for (String line : scrape.split("\n")) {
            if (line.startsWith("eventline_gate_confirm_seconds_count{function=\"orders\"")) {
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        throw new AssertionError("no eventline_gate_confirm_seconds_count for orders in the scrape");
    }

    @Test
    void exposesHealthAndPrometheusMetrics() {
        given().contentType("text/plain").body("x").post("/events").then().statusCode(415);
        given().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"));
        String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        assertNotNull(metrics);
        org.junit.jupiter.api.Assertions.assertTrue(metrics.contains("eventline_gate_requests_total{outcome=\"unsupported\"}"), metrics);
    }
}
