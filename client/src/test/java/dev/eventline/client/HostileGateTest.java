package dev.eventline.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.eventline.client.FakeGate.Exchange;
import dev.eventline.client.FakeGate.Reply;

/**
 * The client against a gate that answers badly on purpose: every answer class of the contract, and what a
 * broken or hostile gate might send (garbage JSON, a {@code failed} list that names the wrong events,
 * {@code Retry-After} huge, negative or a date, an answer cut off or never finished). In every case each event
 * ends delivered or rejected, never lost, and a key's events are never sent out of order.
 */
class HostileGateTest {

    private static final String KEY = "producer-key-0123456789-secret";

    private final List<AutoCloseable> open = new ArrayList<>();
    private final ConcurrentLinkedQueue<String> rejectedIds = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<String> reasons = new ConcurrentLinkedQueue<>();

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : open) {
            c.close();
        }
    }

    private FakeGate gate(java.util.function.BiFunction<Integer, Exchange, Reply> script) throws Exception {
        FakeGate gate = new FakeGate(script);
        open.add(gate);
        return gate;
    }

    /** Quick retries; batches of {@code batch} events once that many keys are ready. */
    private EventlineClient.Builder client(FakeGate gate, int batch) {
        return EventlineClient.builder(gate.uri()).apiKey(KEY).batchSize(batch).linger(Duration.ofSeconds(5))
                .senders(1).initialBackoff(Duration.ofMillis(10)).maxBackoff(Duration.ofMillis(50))
                .requestTimeout(Duration.ofSeconds(5)).closeTimeout(Duration.ofSeconds(5))
                .onRejected((events, reason) -> {
                    events.forEach(e -> rejectedIds.add(e.path("id").asText()));
                    reasons.add(reason);
                });
    }

    private EventlineClient started(EventlineClient.Builder b) {
        EventlineClient c = b.build();
        open.add(0, c);
        return c;
    }

    static ObjectNode event(String id, String key) {
        return JsonNodeFactory.instance.objectNode().put("specversion", "1.0").put("id", id).put("source", "/test")
                .put("type", "test.event").put("partitionkey", key);
    }

    /** Sends events e0..e(n-1), each with its own key. */
    private static List<String> sendDistinct(EventlineClient client, int n) throws InterruptedException {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ids.add("e" + i);
            client.send(event("e" + i, "k" + i));
        }
        return ids;
    }

    private static void assertAllDelivered(EventlineClient client, int n) throws InterruptedException {
        assertTrue(client.flush(Duration.ofSeconds(20)), "flushed; outstanding " + client.outstanding());
        assertEquals(n, client.stats().delivered(), client.stats().toString());
        assertEquals(0, client.stats().rejected(), client.stats().toString());
    }

    private static long gapMillis(Exchange answered, Exchange next) {
        return (next.arrivedNanos - answered.answeredNanos) / 1_000_000;
    }

    @Test
    void resendsExactlyTheEventsA503ListsAsFailed() throws Exception {
        FakeGate gate = gate((n, x) -> n == 0
                ? Reply.json(503, "{\"error\":\"unavailable\",\"failed\":[{\"index\":1,\"id\":\"" + x.ids.get(1)
                        + "\",\"reason\":\"nack\"}]}")
                : Reply.accepted(x.ids.size()));
        EventlineClient client = started(client(gate, 3));
        sendDistinct(client, 3);
        assertAllDelivered(client, 3);
        assertEquals(List.of(List.of("e0", "e1", "e2"), List.of("e1")), gate.exchanges().stream().map(x -> x.ids)
                .toList());
    }

    @Test
    void resendsADuplicatedFailedEventOnce() throws Exception {
        FakeGate gate = gate((n, x) -> n == 0
                ? Reply.json(503, "{\"failed\":[{\"index\":2},{\"index\":2,\"id\":\"e2\"}]}")
                : Reply.accepted(x.ids.size()));
        EventlineClient client = started(client(gate, 3));
        sendDistinct(client, 3);
        assertAllDelivered(client, 3);
        assertEquals(List.of("e2"), gate.exchanges().get(1).ids);
    }

    @ParameterizedTest
    @ValueSource(strings = { "not json at all {", "{\"failed\":[{\"index\":3}]}", "{\"failed\":[{\"index\":-1}]}",
            "{\"failed\":[{\"index\":\"1\"}]}", "{\"failed\":[{\"index\":1,\"id\":\"someone-else\"}]}",
            "{\"failed\":[]}", "{\"failed\":{\"index\":1}}", "{\"failed\":[7]}", "",
            "{\"failed\":[{\"index\":1.0}]}", "{\"failed\":[{\"index\":1,\"id\":null}]}" })
    void resendsTheWholeBatchWhenA503SaysNothingTrustworthyAboutWhatFailed(String body) throws Exception {
        FakeGate gate = gate((n, x) -> n == 0 ? Reply.json(503, body) : Reply.accepted(x.ids.size()));
        EventlineClient client = started(client(gate, 3));
        sendDistinct(client, 3);
        assertAllDelivered(client, 3);
        assertEquals(List.of("e0", "e1", "e2"), gate.exchanges().get(1).ids);
    }

    @ParameterizedTest
    @ValueSource(ints = { 500, 502, 504, 408 })
    void resendsTheWholeBatchOnOtherServerErrorsAndRequestTimeouts(int status) throws Exception {
        FakeGate gate = gate((n, x) -> n == 0 ? Reply.json(status, "{}") : Reply.accepted(x.ids.size()));
        EventlineClient client = started(client(gate, 2));
        sendDistinct(client, 2);
        assertAllDelivered(client, 2);
        assertEquals(gate.exchanges().get(0).ids, gate.exchanges().get(1).ids);
    }

    @Test
    void honoursRetryAfterInSecondsOn429AndAsAnHttpDateOn503() throws Exception {
        FakeGate gate = gate((n, x) -> switch (n) {
            case 0 -> Reply.json(429, "{\"retryAfterSeconds\":1}", "Retry-After: 1");
            case 1 -> Reply.json(503, "{\"error\":\"unavailable\"}", "Retry-After: " + DateTimeFormatter.RFC_1123_DATE_TIME
                    .format(ZonedDateTime.now(ZoneOffset.UTC).truncatedTo(ChronoUnit.SECONDS).plusSeconds(2)));
            default -> Reply.accepted(x.ids.size());
        });
        EventlineClient client = started(client(gate, 1));
        sendDistinct(client, 1);
        assertAllDelivered(client, 1);
        List<Exchange> x = gate.exchanges();
        assertEquals(3, x.size());
        assertTrue(gapMillis(x.get(0), x.get(1)) >= 1000, "waited " + gapMillis(x.get(0), x.get(1)) + " ms after 429");
        assertTrue(gapMillis(x.get(1), x.get(2)) >= 1000, "waited " + gapMillis(x.get(1), x.get(2)) + " ms after 503");
        assertEquals(1, client.stats().throttled());
        assertEquals(1, client.stats().unavailable());
    }

    @Test
    void capsAHugeRetryAfterAndIgnoresANegativeOrUnreadableOne() throws Exception {
        FakeGate gate = gate((n, x) -> switch (n) {
            case 0 -> Reply.json(429, "{}", "Retry-After: 99999999999999999999999");
            case 1 -> Reply.json(503, "{}", "Retry-After: -5");
            case 2 -> Reply.json(429, "{}", "Retry-After: soon");
            default -> Reply.accepted(x.ids.size());
        });
        EventlineClient client = started(client(gate, 1).maxRetryAfter(Duration.ofMillis(300)));
        sendDistinct(client, 1);
        assertAllDelivered(client, 1);
        List<Exchange> x = gate.exchanges();
        long capped = gapMillis(x.get(0), x.get(1));
        assertTrue(capped >= 300 && capped < 5000, "a huge Retry-After waited the cap: " + capped + " ms");
        assertTrue(gapMillis(x.get(1), x.get(2)) < 5000, "a negative Retry-After meant backoff");
        assertTrue(gapMillis(x.get(2), x.get(3)) < 5000, "an unreadable Retry-After meant backoff");
    }

    @ParameterizedTest
    @ValueSource(strings = { "HTTP/1.1 202 Accepted\r\nContent-Length: 100\r\n\r\n{\"acc", "HTTP/1.1 20", "" })
    void resendsTheBatchWhenTheConnectionClosesMidAnswer(String cutOff) throws Exception {
        FakeGate gate = gate((n, x) -> n == 0 ? Reply.raw(cutOff) : Reply.accepted(x.ids.size()));
        EventlineClient client = started(client(gate, 2));
        sendDistinct(client, 2);
        assertAllDelivered(client, 2);
        assertEquals(gate.exchanges().get(0).ids, gate.exchanges().get(1).ids);
        assertEquals(1, client.stats().unavailable());
    }

    @ParameterizedTest
    @ValueSource(strings = { "", "HTTP/1.1 202 Accepted\r\nContent-Length: 100\r\n\r\n{" })
    void resendsTheBatchWhenTheAnswerDoesNotCompleteWithinTheRequestTimeout(String answerStart) throws Exception {
        FakeGate gate = gate((n, x) -> n == 0 ? Reply.rawThenSilence(answerStart) : Reply.accepted(x.ids.size()));
        EventlineClient client = started(client(gate, 2).requestTimeout(Duration.ofSeconds(1)));
        long start = System.nanoTime(); // the client's request timer starts later than this
        sendDistinct(client, 2);
        assertAllDelivered(client, 2);
        List<Exchange> x = gate.exchanges();
        assertEquals(x.get(0).ids, x.get(1).ids);
        long waited = (x.get(1).arrivedNanos - start) / 1_000_000;
        assertTrue(waited >= 1000, "resent after the request timeout (1 s), not before: " + waited + " ms");
    }

    @ParameterizedTest
    @ValueSource(ints = { 400, 403, 413 })
    void aRefusalNamingOneEventRejectsOnlyItAndResendsTheOthers(int status) throws Exception {
        FakeGate gate = gate((n, x) -> n == 0 ? Reply.json(status, "{\"error\":\"invalid-event\",\"message\":"
                + "\"time 'yesterday' is not an RFC 3339 timestamp\",\"index\":1,\"field\":\"time\"}")
                : Reply.accepted(x.ids.size()));
        EventlineClient client = started(client(gate, 3));
        sendDistinct(client, 3);
        assertTrue(client.flush(Duration.ofSeconds(20)));
        assertEquals(List.of("e1"), List.copyOf(rejectedIds));
        String reason = reasons.peek();
        assertTrue(reason.startsWith(status + " invalid-event: time 'yesterday'") && reason.endsWith("(field 'time')"),
                reason);
        assertEquals(List.of("e0", "e2"), gate.exchanges().get(1).ids);
        assertEquals(2, client.stats().delivered());
    }

    @ParameterizedTest
    @ValueSource(ints = { 400, 413 })
    void aRefusalWithoutIndexSplitsTheBatchUntilTheRefusedEventIsAlone(int status) throws Exception {
        FakeGate gate = gate((n, x) -> x.ids.contains("big")
                ? Reply.json(status, "{\"error\":\"request-too-large\",\"message\":\"too large\"}")
                : Reply.accepted(x.ids.size()));
        EventlineClient client = started(client(gate, 4));
        for (String id : List.of("a", "big", "c", "d")) {
            client.send(event(id, "key-" + id));
        }
        assertTrue(client.flush(Duration.ofSeconds(20)));
        assertEquals(List.of("big"), List.copyOf(rejectedIds));
        assertEquals(List.of(List.of("a", "big", "c", "d"), List.of("a", "big"), List.of("a"), List.of("big"),
                List.of("c", "d")), gate.exchanges().stream().map(x -> x.ids).toList());
        assertEquals(3, client.stats().delivered());
    }

    @ParameterizedTest
    @ValueSource(ints = { 401, 404, 415, 422, 200, 201, 302 })
    void refusalsOfTheWholeRequestAndAnswersOutsideTheContractRejectEveryEvent(int status) throws Exception {
        FakeGate gate = gate((n, x) -> Reply.json(status, "{\"error\":\"e\",\"message\":\"m " + status + "\"}",
                "Location: http://elsewhere/"));
        EventlineClient client = started(client(gate, 3));
        List<String> ids = sendDistinct(client, 3);
        assertTrue(client.flush(Duration.ofSeconds(20)));
        assertEquals(ids, List.copyOf(rejectedIds));
        assertTrue(reasons.peek().contains("m " + status), reasons.peek());
        assertEquals(0, client.stats().delivered(), "a status other than 202 never counts as delivered");
        assertEquals(1, gate.exchanges().size(), "never retried");
    }

    @Test
    void theProducerKeyNeverReachesTheRejectionHandler() throws Exception {
        FakeGate gate = gate((n, x) -> Reply.json(401, "{\"error\":\"unauthorized\",\"message\":\"unknown key "
                + x.authorization + "\"}"));
        EventlineClient client = started(client(gate, 1));
        sendDistinct(client, 1);
        assertTrue(client.flush(Duration.ofSeconds(20)));
        assertEquals("Bearer " + KEY, gate.exchanges().get(0).authorization, "the key was sent");
        assertFalse(reasons.peek().contains(KEY), reasons.peek());
        assertTrue(reasons.peek().contains("<producer key>"), reasons.peek());
    }

    @Test
    void theProducerKeyIsRemovedAlsoWhenTheGateEchoesItJsonEscaped() throws Exception {
        String escaped = "\\u" + String.format("%04x", (int) KEY.charAt(0)) + KEY.substring(1);
        FakeGate gate = gate((n, x) -> Reply.json(400, "{\"error\":\"e\",\"message\":\"" + "y".repeat(280) + escaped
                + "\",\"field\":\"" + escaped + "\"}"));
        EventlineClient client = started(client(gate, 1));
        sendDistinct(client, 1);
        assertTrue(client.flush(Duration.ofSeconds(20)));
        String reason = reasons.peek();
        assertFalse(reason.contains(KEY) || reason.contains(KEY.substring(0, 10)), reason);
        assertTrue(reason.endsWith("(field '<producer key>')"), reason);
    }

    @Test
    void aDeeplyNestedAnswerIsNotTheGatesJsonAndTheBatchIsResent() throws Exception {
        String deep = "{\"failed\":" + "[".repeat(100_000);
        FakeGate gate = gate((n, x) -> n == 0 ? Reply.json(503, deep) : Reply.accepted(x.ids.size()));
        EventlineClient client = started(client(gate, 2));
        sendDistinct(client, 2);
        assertAllDelivered(client, 2);
        assertEquals(gate.exchanges().get(0).ids, gate.exchanges().get(1).ids);
    }

    @Test
    void refusesAGateUrlThatIsNotHttp() {
        for (String url : List.of("ftp://gate/events", "gate:8080/events", "http:///events")) {
            assertThrows(IllegalArgumentException.class, () -> EventlineClient.builder(java.net.URI.create(url)), url);
        }
        assertThrows(IllegalArgumentException.class, () -> EventlineClient.builder(java.net.URI.create("http://g/e"))
                .apiKey("key with\nnewline"));
    }

    @Test
    void readsAHugeAnswerOnlyUpToItsBound() throws Exception {
        String huge = "x".repeat(5 << 20);
        FakeGate gate = gate((n, x) -> Reply.json(400, huge));
        EventlineClient client = started(client(gate, 1));
        sendDistinct(client, 1);
        assertTrue(client.flush(Duration.ofSeconds(20)));
        assertEquals(List.of("e0"), List.copyOf(rejectedIds));
        assertTrue(reasons.peek().length() < 400, "the reason is clipped: " + reasons.peek().length());
    }

    @Test
    void neverSendsAKeysNextEventBeforeTheEarlierOneWasAccepted() throws Exception {
        Map<String, Boolean> seen = new ConcurrentHashMap<>();
        List<Exchange> accepting = new java.util.concurrent.CopyOnWriteArrayList<>();
        Map<Exchange, List<String>> acceptedBy = new ConcurrentHashMap<>();
        // every event fails the first time the gate sees it (503 listing it), and is accepted the next time
        FakeGate gate = gate((n, x) -> {
            StringBuilder failed = new StringBuilder();
            List<String> accepted = new ArrayList<>();
            for (int i = 0; i < x.ids.size(); i++) {
                if (seen.putIfAbsent(x.ids.get(i), true) == null) {
                    failed.append(failed.length() == 0 ? "" : ",").append("{\"index\":").append(i).append('}');
                } else {
                    accepted.add(x.ids.get(i));
                }
            }
            acceptedBy.put(x, accepted);
            accepting.add(x);
            return failed.length() == 0 ? Reply.accepted(x.ids.size())
                    : Reply.json(503, "{\"failed\":[" + failed + "]}");
        });
        EventlineClient client = started(client(gate, 4).senders(3).linger(Duration.ZERO));
        for (int seq = 0; seq < 5; seq++) {
            for (int key = 0; key < 5; key++) {
                client.send(event(key + "-" + seq, "key-" + key));
            }
        }
        assertAllDelivered(client, 25);
        for (Exchange x : gate.exchanges()) {
            for (String id : x.ids) {
                String[] keySeq = id.split("-");
                int seq = Integer.parseInt(keySeq[1]);
                String previous = keySeq[0] + "-" + (seq - 1);
                assertTrue(seq == 0 || accepting.stream().anyMatch(a -> acceptedBy.get(a).contains(previous)
                        && a.answeredNanos < x.arrivedNanos), id + " was sent before " + previous + " was accepted");
            }
            assertEquals(x.ids.size(), x.ids.stream().map(id -> id.split("-")[0]).distinct().count(),
                    "one event per key in a request: " + x.ids);
        }
    }

    @Test
    void rejectsEventsWithoutAPartitionKeyAtOnceAndNeverSendsThem() throws Exception {
        FakeGate gate = gate((n, x) -> Reply.accepted(x.ids.size()));
        EventlineClient client = started(client(gate, 1));
        client.send(JsonNodeFactory.instance.objectNode().put("id", "no-key").put("type", "t"));
        ObjectNode emptyKeys = event("empty-keys", "").put("subject", "");
        emptyKeys.putObject("partitionkey");
        client.send(emptyKeys);
        assertEquals(List.of("no-key", "empty-keys"), List.copyOf(rejectedIds), "rejected in the calling thread");
        assertTrue(reasons.peek().contains("no partition key"), reasons.peek());
        client.send(event("by-subject", "").put("subject", "s"));
        assertTrue(client.flush(Duration.ofSeconds(20)));
        assertEquals(new EventlineClient.Stats(1, 0, 0, 2), client.stats());
        assertEquals(List.of(List.of("by-subject")), gate.exchanges().stream().map(x -> x.ids).toList());
    }

    @Test
    void rejectsEventsWhoseAttributesBreakTheGatesBoundsAtOnceAndNeverSendsThem() throws Exception {
        FakeGate gate = gate((n, x) -> Reply.accepted(x.ids.size()));
        EventlineClient client = started(client(gate, 1));
        client.send(event("i".repeat(256), "k"));
        client.send(event("lone-\ud800", "k"));
        client.send(event("long-key", "k".repeat(300)));
        client.send(event("long-source", "k").put("source", "/" + "s".repeat(1024)));
        assertEquals(4, rejectedIds.size(), "rejected in the calling thread: " + reasons);
        assertTrue(reasons.stream().allMatch(r -> r.contains("the gate refuses such events")), reasons.toString());
        assertTrue(reasons.stream().anyMatch(r -> r.contains("not valid Unicode")), reasons.toString());
        client.send(event("fits-" + "é".repeat(100), "k".repeat(255)));
        // a subject that is not the key stays in the body: the gate bounds only what it routes by
        client.send(event("long-subject", "k").put("subject", "s".repeat(300) + "\ud800"));
        assertTrue(client.flush(Duration.ofSeconds(20)));
        assertEquals(new EventlineClient.Stats(2, 0, 0, 4), client.stats());
        assertEquals(List.of("fits-" + "é".repeat(100), "long-subject"),
                gate.exchanges().stream().flatMap(x -> x.ids.stream()).sorted().toList());
    }

    @Test
    void theBufferIsBoundedInEventsAndInBytes() throws Exception {
        FakeGate gate = gate((n, x) -> Reply.rawThenSilence(""));
        EventlineClient byCount = started(client(gate, 1).bufferCapacity(2).requestTimeout(Duration.ofSeconds(30))
                .closeTimeout(Duration.ZERO));
        assertTrue(byCount.offer(event("a", "a"), Duration.ZERO));
        assertTrue(byCount.offer(event("b", "b"), Duration.ZERO));
        assertFalse(byCount.offer(event("c", "c"), Duration.ofMillis(100)), "a third event does not fit");
        assertEquals(2, byCount.outstanding());

        ObjectNode large = event("large", "l").put("data", "x".repeat(600));
        EventlineClient byBytes = started(client(gate, 1).bufferBytes(1000).requestTimeout(Duration.ofSeconds(30))
                .closeTimeout(Duration.ZERO));
        assertTrue(byBytes.offer(large, Duration.ZERO));
        assertFalse(byBytes.offer(large.deepCopy().put("id", "large-2"), Duration.ofMillis(100)), "1200 bytes > 1000");
        byBytes.send(event("huge", "h").put("data", "x".repeat(2000)));
        assertEquals(List.of("huge"), List.copyOf(rejectedIds), "larger than the whole buffer: rejected at once");
        assertTrue(reasons.peek().contains("larger than the client's buffer"), reasons.peek());
    }

    @Test
    void closeHandsEveryEventStillHeldToTheRejectionHandler() throws Exception {
        FakeGate gate = gate((n, x) -> Reply.rawThenSilence(""));
        EventlineClient client = client(gate, 3).senders(2).linger(Duration.ZERO).requestTimeout(Duration.ofSeconds(30))
                .closeTimeout(Duration.ofMillis(200)).build();
        List<String> ids = new ArrayList<>(sendDistinct(client, 5));
        for (int i = 0; i < 2; i++) {
            ids.add("k0-later-" + i);
            client.send(event("k0-later-" + i, "k0"));
        }
        assertFalse(client.flush(Duration.ofMillis(100)), "nothing can be delivered");
        long start = System.nanoTime();
        client.close();
        assertTrue(System.nanoTime() - start < Duration.ofSeconds(10).toNanos(), "close gave up in time");
        assertEquals(ids.stream().sorted().toList(), rejectedIds.stream().sorted().toList(), "each event once");
        assertTrue(reasons.stream().allMatch(r -> r.contains("closed before the gate confirmed")), reasons.toString());
        assertEquals(0, client.outstanding());
        assertEquals(7, client.stats().rejected());
        assertThrows(IllegalStateException.class, () -> client.send(event("after", "x")));
        client.close(); // a second close does nothing
        assertEquals(7, rejectedIds.size());
    }
}
