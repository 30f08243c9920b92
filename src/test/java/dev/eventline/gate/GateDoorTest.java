package dev.eventline.gate;

import static dev.eventline.gate.RawHttp.head;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.eventline.http.EventReader;
import dev.eventline.testsupport.BrokerResource;
import dev.eventline.testsupport.GateClient;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

/**
 * The gate's door against hostile and careless requests: the key is checked and a declared size judged before
 * any of the body is read, a body is cut at the limit and at its deadline, a batch is counted while it is
 * read, and none of it is logged above DEBUG.
 */
@QuarkusTest
@QuarkusTestResource(BrokerResource.class)
@TestProfile(DoorProfile.class)
class GateDoorTest extends DoorTestBase {

    private static final String POST = "POST /events HTTP/1.1";
    private static final String BATCH = "Content-Type: " + EventReader.BATCH;
    private static final String KEY = "Authorization: Bearer " + DoorProfile.KEY;
    private static final String TEN_MB = "Content-Length: " + (10 << 20);
    private static final List<String> HTTP_LOGGERS = List.of("dev.eventline", "io.vertx", "io.quarkus.vertx");

    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void refusesAMissingOrUnknownKeyBeforeAnyOfTheBodyIsSent() throws Exception {
        for (String[] headers : List.of(new String[] { BATCH, TEN_MB },
                new String[] { BATCH, TEN_MB, "Authorization: Bearer not-a-producer-key-0123456789" })) {
            try (RawHttp raw = new RawHttp(events)) {
                raw.send(head(POST, headers)); // and not one byte of the 10 MB
                RawHttp.Answer answer = raw.answer();
                assertEquals(401, answer.status(), answer.toString());
                assertEquals("unauthorized", JSON.readTree(answer.body()).path("error").asText());
                assertTrue(answer.head().contains("connection: close"), answer.head());
            }
        }
    }

    @Test
    void refusesOversizedHeadersBeforeAnyRoute() throws Exception {
        try (RawHttp raw = new RawHttp(events)) {
            raw.send(head(POST, BATCH, KEY, "ce-id: " + "x".repeat(30_000), "Content-Length: 2") + "[]");
            assertEquals(431, raw.answer().status());
        }
    }

    @Test
    void refusesADeclaredOversizeBodyBeforeAnyOfItIsSent() throws Exception {
        try (RawHttp raw = new RawHttp(events)) {
            raw.send(head(POST, BATCH, KEY, TEN_MB));
            RawHttp.Answer answer = raw.answer();
            assertEquals(413, answer.status(), answer.toString());
            assertEquals("request-too-large", JSON.readTree(answer.body()).path("error").asText());
        }
    }

    @Test
    void cutsAChunkedBodyAtTheLimitWithoutWaitingForItsEnd() throws Exception {
        chunkedOverTheLimit();
    }

    private void chunkedOverTheLimit() throws Exception {
        byte[] spaces = " ".repeat(64 * 1024).getBytes(StandardCharsets.US_ASCII); // JSON whitespace: only size counts
        try (RawHttp raw = new RawHttp(events)) {
            raw.send(head(POST, BATCH, KEY, "Transfer-Encoding: chunked"));
            for (long sent = 0; sent <= config.gate().maxRequestBytes(); sent += spaces.length) {
                raw.chunk(spaces);
            }
            RawHttp.Answer answer = raw.answer(); // the body has not ended: no last chunk was sent
            assertEquals(413, answer.status(), answer.toString());
            assertEquals("request-too-large", JSON.readTree(answer.body()).path("error").asText());
            assertTrue(raw.closedByServer(Duration.ofSeconds(30)), "the rest of the body is not waited for");
        }
    }

    @Test
    void answers408ToABodyThatDoesNotArriveInTime() throws Exception {
        try (RawHttp raw = new RawHttp(events)) {
            long started = System.nanoTime();
            raw.send(head(POST, BATCH, KEY, "Transfer-Encoding: chunked"));
            raw.chunk("[".getBytes(StandardCharsets.US_ASCII)); // and then nothing, as a slow sender would
            RawHttp.Answer answer = raw.answer();
            assertEquals(408, answer.status(), answer.toString());
            assertTrue(System.nanoTime() - started >= GateDoor.BODY_DEADLINE.toNanos());
            assertTrue(raw.closedByServer(Duration.ofSeconds(10)));
        }
    }

    @Test
    void aProducerWithoutAKeyThatSendsItsBodyAnywayReadsThe401() throws Exception {
        String event = GateClient.event(run, "roomy.event", "k", "x".repeat(2000)).toString();
        for (int i = 0; i < 20; i++) { // a connection closed over unread bytes would be reset, losing the answer
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(events)
                    .header("Content-Type", EventReader.STRUCTURED).POST(HttpRequest.BodyPublishers.ofString(event))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(401, r.statusCode(), r.body());
        }
    }

    @Test
    void countsABatchWhileReadingItAndPublishesNothingOfATooLargeOne() throws Exception {
        // 1.3 million empty events in 4 MB: refused at the 1001st, without building the rest; four at once
        String flood = "[" + "{},".repeat(1_300_000) + "{}]";
        List<CompletableFuture<HttpResponse<String>>> floods = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            floods.add(http.sendAsync(post(flood), HttpResponse.BodyHandlers.ofString()));
        }
        for (CompletableFuture<HttpResponse<String>> r : floods) {
            assertEquals(413, r.get().statusCode(), r.get().body());
            assertEquals("batch-too-large", JSON.readTree(r.get().body()).path("error").asText());
        }
        HttpResponse<String> oneTooMany = http.send(post(roomyBatch(config.gate().maxBatchEvents() + 1)),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(413, oneTooMany.statusCode(), oneTooMany.body());
        HttpResponse<String> atTheLimit = http.send(post(roomyBatch(config.gate().maxBatchEvents())),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(202, atTheLimit.statusCode(), atTheLimit.body());
        assertEquals(config.gate().maxBatchEvents(), depth("roomy"), "only the batch at the limit was published");
    }

    @Test
    void refusesBatchesThatAreNotAFlatArrayOfEvents() throws Exception {
        String event = GateClient.event(run, "roomy.event", "k", 1).toString();
        String deep = "{\"data\":" + "[".repeat(5000) + "]".repeat(5000) + "}";
        for (String bad : List.of("[]", "[[" + event + "]]", "[" + event + ",7]", "[" + event + "] []", "[" + event,
                "[" + event + "," + deep + "]")) {
            HttpResponse<String> r = http.send(post(bad), HttpResponse.BodyHandlers.ofString());
            assertEquals(400, r.statusCode(), bad.length() > 200 ? bad.substring(0, 200) : bad);
        }
        HttpResponse<String> untyped = http.send(HttpRequest.newBuilder(events).header("Authorization",
                "Bearer " + DoorProfile.KEY).POST(HttpRequest.BodyPublishers.ofString(event)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(415, untyped.statusCode(), untyped.body());
        assertEquals(0, depth("roomy"));
    }

    @Test
    void logsCallerMistakesWithoutStackTracesOrTheirContent() throws Exception {
        List<LogRecord> records = java.util.Collections.synchronizedList(new ArrayList<>());
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord r) {
                records.add(r);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        capture.setLevel(Level.ALL);
        Logger root = Logger.getLogger("");
        root.addHandler(capture);
        String secret = "personal-data-" + run;
        try {
            http.send(post("[{\"specversion\":\"1.0\",\"id\":\"" + secret + "\"}, {" + secret),
                    HttpResponse.BodyHandlers.ofString());
            http.send(post("[" + GateClient.event(secret, "order.unknown", secret, secret) + "]"),
                    HttpResponse.BodyHandlers.ofString());
            try (RawHttp raw = new RawHttp(events)) { // a caller that leaves in the middle of its body
                raw.send(head(POST, BATCH, KEY, "Content-Length: 100000") + "[" + secret);
            }
            chunkedOverTheLimit();
            await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(10))
                    .until(() -> bad(records).isEmpty());
        } finally {
            root.removeHandler(capture);
        }
        assertTrue(records.stream().noneMatch(r -> String.valueOf(r.getMessage()).contains(secret)
                || (r.getParameters() != null && List.of(r.getParameters()).toString().contains(secret))));
    }

    /** Records of the HTTP stack at ERROR, or at WARN with a stack trace. */
    private static List<String> bad(List<LogRecord> records) {
        synchronized (records) {
            return records.stream()
                    .filter(r -> HTTP_LOGGERS.stream().anyMatch(String.valueOf(r.getLoggerName())::startsWith))
                    .filter(r -> r.getLevel().intValue() >= Level.SEVERE.intValue()
                            || (r.getLevel().intValue() >= Level.WARNING.intValue() && r.getThrown() != null))
                    .map(r -> r.getLoggerName() + ": " + r.getMessage()).toList();
        }
    }

    private HttpRequest post(String batch) {
        return HttpRequest.newBuilder(events).header("Content-Type", EventReader.BATCH)
                .header("Authorization", "Bearer " + DoorProfile.KEY).POST(HttpRequest.BodyPublishers.ofString(batch))
                .build();
    }

    private String roomyBatch(int count) {
        List<ObjectNode> batch = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            batch.add(GateClient.event(run + "-" + i, "roomy.event", "k-" + (i % 7), i));
        }
        return JSON.valueToTree(batch).toString();
    }
}
