package dev.eventline.faults;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.eventline.testsupport.BrokerResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.specification.RequestSpecification;

/**
 * The HTTP trigger as a Knative RabbitMQ source meets it: CloudEvents in binary and structured mode, answered
 * 2xx when done, 4xx when the event can never succeed (the source dead-letters it without retrying) and 5xx
 * when trying again can help; and the dead-letter sink that stores what the source gives up on.
 */
@QuarkusTest
@QuarkusTestResource(BrokerResource.class)
@TestProfile(HttpTriggerProfile.class)
class HttpTriggerTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Inject
    Ledger ledger;

    @TestHTTPResource("/")
    URI root;

    private final String run = UUID.randomUUID().toString().substring(0, 8);

    /** A caller as a RabbitmqSource is one: the token as the password of Basic authentication. */
    static RequestSpecification source() {
        return given().auth().preemptive().basic("eventline", HttpTriggerProfile.TOKEN);
    }

    static String basic(String token) {
        return "Basic " + Base64.getEncoder().encodeToString(("eventline:" + token).getBytes(StandardCharsets.UTF_8));
    }

    private static RequestSpecification binary(String id, String type, Object data) {
        return source().header("ce-specversion", "1.0").header("ce-id", id).header("ce-source", "/test")
                .header("ce-type", type).header("ce-partitionkey", "k-" + id).contentType("application/json")
                .body(json(data));
    }

    private static RequestSpecification structured(ObjectNode event) {
        return source().contentType("application/cloudevents+json").body(event.toString());
    }

    static ObjectNode event(String id, String type, Object data) {
        ObjectNode e = JSON.createObjectNode().put("specversion", "1.0").put("id", id).put("source", "/test")
                .put("type", type).put("subject", "k-" + id);
        e.set("data", JSON.valueToTree(data));
        return e;
    }

    private static String json(Object data) {
        try {
            return JSON.writeValueAsString(data);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void binaryAndStructuredEventsAreAppliedOnceAndAnswered2xx() {
        String b = "bin-" + run;
        binary(b, "fault.strict", Script.ok()).post("/").then().statusCode(204);
        assertEquals(1, ledger.applied(b));

        String s = "struct-" + run; // no datacontenttype: JSON by default, as the spec says
        structured(event(s, "fault.relaxed", Script.ok())).post("/").then().statusCode(204);
        assertEquals(1, ledger.applied(s));

        // a redelivery of an applied event (the source retries when an answer is lost) is not applied again
        binary(b, "fault.strict", Script.ok()).post("/").then().statusCode(200).body("outcome", equalTo("duplicate"));
        structured(event(s, "fault.relaxed", Script.ok())).post("/").then().statusCode(200);
        assertEquals(1, ledger.applied(b));
        assertEquals(1, ledger.applied(s));
        assertEquals(1, ledger.calls(b));
    }

    @Test
    void aRetryableFailureIs5xxAndTheRetrySucceeds() {
        String id = "retry-" + run;
        binary(id, "fault.strict", Script.failing(1)).post("/").then().statusCode(500)
                .body("error", equalTo("handler-failed")).body("message", containsString("planned failure 1"));
        assertEquals(0, ledger.applied(id));
        binary(id, "fault.strict", Script.failing(1)).post("/").then().statusCode(204);
        assertEquals(1, ledger.applied(id));
        assertEquals(2, ledger.calls(id));

        String s = "retry-s-" + run;
        structured(event(s, "fault.strict", Script.failing(1))).post("/").then().statusCode(500);
        structured(event(s, "fault.strict", Script.failing(1))).post("/").then().statusCode(204);
        assertEquals(1, ledger.applied(s));
    }

    @Test
    void eventsThatCanNeverSucceedAre4xxButNeverACodeKnativeRetries() {
        Script nonRetryable = new Script(0, false, false, true, 0, false, 0);
        Script refused = new Script(0, false, true, false, 0, false, 0); // class listed in retry.nonRetryable
        binary("nr-" + run, "fault.strict", nonRetryable).post("/").then().statusCode(422)
                .body("error", equalTo("non-retryable"));
        structured(event("nr-s-" + run, "fault.strict", nonRetryable)).post("/").then().statusCode(422);
        binary("refused-" + run, "fault.strict", refused).post("/").then().statusCode(422)
                .body("message", containsString("Refused"));
        assertEquals(1, ledger.calls("nr-" + run));

        // data that does not fit the handler's parameter: never called
        binary("unfit-" + run, "fault.strict", Map.of("failTimes", "many")).post("/").then().statusCode(400);
        structured(event("unfit-s-" + run, "fault.strict", Map.of("failTimes", "many"))).post("/").then().statusCode(400);
        assertEquals(0, ledger.calls("unfit-" + run));

        // a type of a function this service does not run (fault.slow exists, but is not enabled here), or none
        binary("other-" + run, "fault.slow", Script.ok()).post("/").then().statusCode(400)
                .body("error", equalTo("type-not-served"));
        binary("unknown-" + run, "no.such.type", Script.ok()).post("/").then().statusCode(400);
        assertEquals(0, ledger.calls("other-" + run));

        // not a CloudEvent 1.0
        ObjectNode noId = event("x", "fault.strict", Script.ok());
        noId.remove("id");
        structured(noId).post("/").then().statusCode(400).body("error", equalTo("invalid-event"));
        structured(event("v03-" + run, "fault.strict", Script.ok()).put("specversion", "0.3")).post("/").then()
                .statusCode(400);
        structured(event("time-" + run, "fault.strict", Script.ok()).put("time", "yesterday")).post("/").then()
                .statusCode(400);
        assertEquals(0, ledger.calls("time-" + run));
        source().contentType("application/cloudevents+json").body("{not json").post("/").then().statusCode(400);
        source().contentType("application/cloudevents-batch+json").body("[" + event("b-" + run, "fault.strict",
                Script.ok()) + "]").post("/").then().statusCode(400).body("error", equalTo("batch-not-supported"));
    }

    @Test
    void aRedeliveryWhileTheEventStillRunsIsTurnedAway() throws Exception {
        String id = "held-" + run;
        HttpClient client = HttpClient.newHttpClient();
        HttpRequest request = HttpRequest.newBuilder(root.resolve("/")).header("Authorization", basic(HttpTriggerProfile.TOKEN))
                .header("ce-specversion", "1.0")
                .header("ce-id", id).header("ce-source", "/test").header("ce-type", "fault.strict")
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json(Script.ok().holding(1, false)))).build();
        CompletableFuture<HttpResponse<String>> first = client.sendAsync(request, HttpResponse.BodyHandlers.ofString());
        await().atMost(Duration.ofSeconds(30)).until(() -> ledger.calls(id) == 1);

        binary(id, "fault.strict", Script.ok()).post("/").then().statusCode(503).body("error", equalTo("still-running"));
        assertEquals(1, ledger.calls(id));

        ledger.release(id);
        assertEquals(204, first.get().statusCode());
        binary(id, "fault.strict", Script.ok()).post("/").then().statusCode(200);
        assertEquals(1, ledger.applied(id));
    }

    @Test
    void aCallWhoseCallerLeftStaysClaimedAndItsLateSuccessCounts() throws Exception {
        String id = "left-" + run;
        HttpRequest request = HttpRequest.newBuilder(root.resolve("/")).timeout(Duration.ofMillis(300))
                .header("Authorization", basic(HttpTriggerProfile.TOKEN))
                .header("ce-specversion", "1.0").header("ce-id", id).header("ce-source", "/test")
                .header("ce-type", "fault.strict").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json(Script.ok().holding(1, false)))).build();
        // as Knative's timeoutSeconds does: the caller gives up and closes the connection while the call runs
        CompletableFuture<HttpResponse<String>> gaveUp = HttpClient.newHttpClient().sendAsync(request,
                HttpResponse.BodyHandlers.ofString());
        await().atMost(Duration.ofSeconds(30)).until(() -> ledger.calls(id) == 1);
        await().atMost(Duration.ofSeconds(30)).until(gaveUp::isDone);
        assertTrue(gaveUp.isCompletedExceptionally(), "the caller timed out");

        // the source's redelivery must not run it a second time while the first call runs on
        await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(10)).until(() -> binary(id, "fault.strict",
                Script.ok()).post("/").statusCode() == 503);
        assertEquals(1, ledger.calls(id));

        ledger.release(id); // its late success is recorded: the next redelivery is done, not run again
        await().atMost(Duration.ofSeconds(30)).until(() -> binary(id, "fault.strict", Script.ok()).post("/")
                .statusCode() == 200);
        assertEquals(1, ledger.applied(id));
        assertEquals(1, ledger.calls(id));
    }

    @Test
    void theDeadLetterSinkStoresWhatTheSourceGaveUpOnInTheFunctionsDeadLetterQueue() {
        String id = "dls-" + run;
        ObjectNode dead = event(id, "fault.strict", Script.failing(99)).put("knativeerrorcode", "500")
                .put("knativeerrordest", "http://flaky.default.svc/")
                .put("knativeerrordata", Base64.getEncoder().encodeToString(
                        "planned failure 4".getBytes(StandardCharsets.UTF_8)));
        structured(dead).post("/dead-letters").then().statusCode(202).body("outcome", equalTo("dead-lettered"));

        JsonNode entry = Faults.awaitDeadLetter("flaky", id);
        assertEquals("fault.strict", entry.path("type").asText());
        assertEquals("k-" + id, entry.path("key").asText());
        assertEquals("knative-delivery-failed (HTTP 500)", entry.path("reason").asText());
        assertEquals("planned failure 4", entry.path("errorMessage").asText());
        assertEquals(3, entry.path("attempts").asInt(), "the source's attempts: retry.maxAttempts");

        // binary mode too; and a body that is no CloudEvent is refused, not stored
        String b = "dls-b-" + run;
        binary(b, "fault.relaxed", Script.ok()).header("ce-knativeerrorcode", "422").post("/dead-letters").then()
                .statusCode(202);
        assertEquals("knative-delivery-failed (HTTP 422)", Faults.awaitDeadLetter("relaxed", b).path("reason").asText());
        source().contentType("application/cloudevents+json").body("[]").post("/dead-letters").then().statusCode(400);
        source().contentType("application/cloudevents-batch+json").body("[" + dead + "]").post("/dead-letters").then()
                .statusCode(400).body("error", equalTo("batch-not-supported"));
    }
}
