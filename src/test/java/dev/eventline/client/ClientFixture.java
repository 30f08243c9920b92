package dev.eventline.client;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.IntStream;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * What the producer client's tests against the real gate share: events with a key and a sequence number in
 * their data, a client that records what it rejects, and the check that a function applied every key's events
 * exactly once and in order.
 */
final class ClientFixture {

    /** What the rejection handler received. */
    final ConcurrentLinkedQueue<String> rejectedIds = new ConcurrentLinkedQueue<>();
    final ConcurrentLinkedQueue<String> reasons = new ConcurrentLinkedQueue<>();
    final String run;

    ClientFixture(String run) {
        this.run = run;
    }

    /** A client with quick retries that records its rejections. */
    EventlineClient.Builder client(URI gate, String key) {
        return EventlineClient.builder(gate).apiKey(key).initialBackoff(Duration.ofMillis(50))
                .maxBackoff(Duration.ofMillis(500)).requestTimeout(Duration.ofSeconds(20))
                .closeTimeout(Duration.ofSeconds(5)).onRejected((events, reason) -> {
                    events.forEach(e -> rejectedIds.add(e.path("id").asText()));
                    reasons.add(reason);
                });
    }

    String key(String name) {
        return run + "-" + name;
    }

    ObjectNode event(String type, String key, int seq) {
        ObjectNode e = JsonNodeFactory.instance.objectNode().put("specversion", "1.0").put("id", id(key, seq))
                .put("source", "/client-test").put("type", type).put("partitionkey", key(key));
        e.putObject("data").put("key", key(key)).put("seq", seq);
        return e;
    }

    String id(String key, int seq) {
        return key(key) + "/" + seq;
    }

    /** Sends {@code perKey} events for each of {@code keys} keys, interleaved: seq 0 of every key, then seq 1... */
    List<String> sendInterleaved(EventlineClient client, String type, String prefix, int keys, int perKey)
            throws InterruptedException {
        List<String> names = new ArrayList<>();
        for (int k = 0; k < keys; k++) {
            names.add(prefix + k);
        }
        for (int seq = 0; seq < perKey; seq++) {
            for (String name : names) {
                client.send(event(type, name, seq));
            }
        }
        return names;
    }

    /** The function applied events 0..perKey-1 of each key, each once, in order. */
    void assertAppliedInOrder(ClientFunctions.Applied applied, List<String> keys, int perKey) {
        List<Integer> expected = IntStream.range(0, perKey).boxed().toList();
        await().atMost(Duration.ofSeconds(60))
                .until(() -> keys.stream().allMatch(k -> applied.seqs(key(k)).size() >= perKey));
        for (String k : keys) {
            assertEquals(expected, applied.seqs(key(k)), "applied for key " + k);
        }
    }

    static void assertFlushed(EventlineClient client, Duration within) throws InterruptedException {
        assertTrue(client.flush(within), "outstanding after " + within + ": " + client.outstanding() + " "
                + client.stats());
    }
}
