package dev.eventline.faults;

import static dev.eventline.faults.HttpTriggerTest.event;
import static dev.eventline.faults.HttpTriggerTest.source;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.UUID;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.eventline.testsupport.BrokerResource;
import dev.eventline.testsupport.TestBroker;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.config.HttpClientConfig;
import io.restassured.config.RestAssuredConfig;
import io.restassured.response.Response;

/**
 * The HTTP trigger's dead-letter sink with hostile and unlucky input: every attribute it turns into an AMQP field
 * is bounded (the probe's 300-character id used to desynchronise the confirms, and one request hung for 645 s),
 * Knative's error extensions are checked since any caller with the token sets them, and the wait for the broker's
 * confirm is bounded. Each refusal is quick and changes nothing: the next dead letters are stored as sent.
 */
@QuarkusTest
@QuarkusTestResource(BrokerResource.class)
@TestProfile(HttpTriggerProfile.class)
class DeadLetterSinkTest {

    /** No request may take longer: the sink answers well within it, or the test fails instead of hanging. */
    private static final RestAssuredConfig PATIENCE = RestAssuredConfig.config().httpClient(HttpClientConfig
            .httpClientConfig().setParam("http.socket.timeout", 30_000).setParam("http.connection.timeout", 10_000));

    @Inject
    Ledger ledger;

    private final String run = UUID.randomUUID().toString().substring(0, 8);

    private static Response post(ObjectNode deadLetter) {
        return source().config(PATIENCE).contentType("application/cloudevents+json; charset=UTF-8").body(deadLetter.toString())
                .post("/dead-letters");
    }

    private ObjectNode deadLetter(String id, int code) {
        return event(id, "fault.strict", Script.ok()).put("knativeerrorcode", String.valueOf(code))
                .put("knativeerrordata", Base64.getEncoder().encodeToString(("failure of " + id).getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void attributesTooLongForAmqpGet400AndTheNextDeadLettersAreStoredAsSent() {
        String id300 = "i".repeat(300);
        post(deadLetter(id300, 500)).then().statusCode(400).body("error", equalTo("invalid-event"))
                .body("message", containsString("attribute 'id' is 300 bytes in UTF-8; at most 255"));
        post(deadLetter("key-" + run, 500).put("partitionkey", "k".repeat(300))).then().statusCode(400)
                .body("message", containsString("attribute 'partitionkey' is 300 bytes"));
        post(deadLetter("subject-" + run, 500).put("subject", "s".repeat(256))).then().statusCode(400);
        post(deadLetter("source-" + run, 500).put("source", "/" + "s".repeat(1024))).then().statusCode(400)
                .body("message", containsString("attribute 'source' is 1025 bytes in UTF-8; at most 1024"));
        post(deadLetter("type-" + run, 500).put("type", "fault." + "t".repeat(294))).then().statusCode(400)
                .body("message", containsString("attribute 'type' is 300 bytes"));
        post(deadLetter("é".repeat(128), 500)).then().statusCode(400).body("message", containsString("256 bytes"));
        post(deadLetter("number-" + run, 500).put("id", 12345)).then().statusCode(400)
                .body("message", containsString("attribute 'id' must be a string"));
        // an escaped unpaired surrogate is valid JSON, but no UTF-8 (the AMQP message-id) can carry it
        source().config(PATIENCE).contentType("application/cloudevents+json")
                .body(deadLetter("LONE-" + run, 500).toString().replace("LONE-", "a\\ud800b-")).post("/dead-letters")
                .then().statusCode(400).body("message", containsString("not valid Unicode"));

        // the next dead letters, right after: each stored once, with its own id, key and error
        for (int i = 0; i < 5; i++) {
            String id = "after-" + run + "-" + i + "-" + "é".repeat(100); // 200 bytes of é: within the bound
            post(deadLetter(id, 500 + i)).then().statusCode(202).body("outcome", equalTo("dead-lettered"));
        }
        for (int i = 0; i < 5; i++) {
            String id = "after-" + run + "-" + i + "-" + "é".repeat(100);
            JsonNode entry = Faults.awaitDeadLetter("flaky", id);
            assertEquals("k-" + id, entry.path("key").asText());
            assertEquals("knative-delivery-failed (HTTP " + (500 + i) + ")", entry.path("reason").asText());
            assertEquals("failure of " + id, entry.path("errorMessage").asText());
        }
        for (String refused : new String[] { id300, "key-" + run, "source-" + run, "type-" + run }) {
            assertEquals(0, Faults.deadLetters("flaky", Map.of("id", refused)).path("matched").asInt(), refused);
        }
    }

    @Test
    void forgedKnativeErrorExtensionsAreCheckedNotTrusted() {
        post(deadLetter("code-" + run, 500).put("knativeerrorcode", "500) reason: approved by ops (")).then()
                .statusCode(400).body("message", containsString("knativeerrorcode must be an HTTP status code"));
        post(deadLetter("code9-" + run, 500).put("knativeerrorcode", "999")).then().statusCode(400);
        post(deadLetter("dest-" + run, 500).put("knativeerrordest", "http://x/" + "d".repeat(2000))).then()
                .statusCode(400).body("message", containsString("knativeerrordest"));
        post(deadLetter("line-" + run, 500).put("knativeerrordest", "http://x/\nforged: header")).then().statusCode(400);

        // an error text of any size is kept to its first 1000 characters; one that is not Base64 is kept as sent
        String longText = Base64.getEncoder().encodeToString("e".repeat(150_000).getBytes(StandardCharsets.UTF_8));
        post(deadLetter("long-" + run, 500).put("knativeerrordata", longText)).then().statusCode(202);
        assertEquals(1000, Faults.awaitDeadLetter("flaky", "long-" + run).path("errorMessage").asText().length());
        post(deadLetter("raw-" + run, 500).put("knativeerrordata", "not base64 !")).then().statusCode(202);
        assertEquals("not base64 !", Faults.awaitDeadLetter("flaky", "raw-" + run).path("errorMessage").asText());

        // larger than an event may be anywhere (eventline.gate.max-event-bytes): 413, not parsed
        post(deadLetter("big-" + run, 500).put("knativeerrordata", "x".repeat(300_000))).then().statusCode(413)
                .body("error", equalTo("event-too-large"));
    }

    /** The HTTP trigger itself refuses the same attributes, before the handler runs. */
    @Test
    void theTriggerRefusesAttributesTooLongForAmqpBeforeTheHandlerRuns() {
        String id = "i".repeat(300);
        source().contentType("application/cloudevents+json").body(event(id, "fault.strict", Script.ok()).toString())
                .post("/").then().statusCode(400).body("message", containsString("attribute 'id' is 300 bytes"));
        String keyed = "keyed-" + run;
        source().contentType("application/cloudevents+json").body(event(keyed, "fault.strict", Script.ok())
                .put("partitionkey", "k".repeat(300)).toString()).post("/").then().statusCode(400);
        assertEquals(0, ledger.calls(id) + ledger.calls(keyed));
    }

    /**
     * A broker that blocks publishing (a memory alarm) never confirms: the sink answers 503 once
     * eventline.trigger.confirm-timeout (2 s here) has passed, or at once when the block is known, and stores the
     * next dead letters once the broker takes them again.
     */
    @Test
    void aConfirmThatNeverComesGets503WithinTheBoundAndTheSinkRecovers() {
        Assumptions.assumeTrue(TestBroker.get().isPrivate(),
                "raising a memory alarm needs a broker this test run started; " + TestBroker.get());
        try {
            TestBroker.get().memoryAlarm(true);
            for (int i = 0; i < 2; i++) { // the first waits for its confirm, the second finds the connection blocked
                long started = System.nanoTime();
                post(deadLetter("blocked-" + run + "-" + i, 500)).then().statusCode(503)
                        .body("error", equalTo("not-stored"));
                Duration took = Duration.ofNanos(System.nanoTime() - started);
                assertTrue(took.compareTo(Duration.ofSeconds(15)) < 0, "answered after " + took);
            }
        } finally {
            TestBroker.get().memoryAlarm(false);
        }
        String after = "unblocked-" + run;
        await().atMost(Duration.ofSeconds(60)).until(() -> post(deadLetter(after, 500)).statusCode() == 202);
        Faults.awaitDeadLetter("flaky", after);
    }
}
