package dev.eventline.testsupport;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.eventline.client.Backoff;
import dev.eventline.client.RetryAfter;

/**
 * Posts CloudEvent batches to the gate over HTTP, as a producer would, and resends a batch the gate did not take
 * as the gate's contract says, waiting by the client's {@link Backoff} (the one resend rule, which
 * {@code EventlineClient} follows too).
 */
public final class GateClient {

    private static final ObjectMapper JSON = new ObjectMapper();
    public static final String BATCH = "application/cloudevents-batch+json";
    private static final Backoff BACKOFF = new Backoff(Duration.ofMillis(200), Duration.ofSeconds(2), Duration.ofSeconds(60));

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final URI events;
    private final String key;

    public GateClient(URI events) {
        this(events, null);
    }

    /** @param key the producer key sent as {@code Authorization: Bearer}, or null */
    public GateClient(URI events, String key) {
        this.events = events;
        this.key = key;
    }

    /** @param retryAfter the {@code Retry-After} header, or null */
    public record Reply(int status, String body, String retryAfter) {
    }

    public Reply post(String contentType, String body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(events).timeout(Duration.ofSeconds(60))
                .header("Content-Type", contentType).POST(HttpRequest.BodyPublishers.ofString(body));
        if (key != null) {
            request.header("Authorization", "Bearer " + key);
        }
        try {
            HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
            return new Reply(response.statusCode(), response.body(),
                    response.headers().firstValue("Retry-After").orElse(null));
        } catch (IOException e) {
            return new Reply(-1, e.toString(), null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Reply(-1, "interrupted", null);
        }
    }

    public Reply postBatch(List<ObjectNode> batch) {
        return post(BATCH, JSON.valueToTree(batch).toString());
    }

    /** {@link #deliver(String, int)} of a batch. */
    public void deliver(List<ObjectNode> batch, int maxTries) {
        deliver(JSON.valueToTree(batch).toString(), maxTries);
    }

    /**
     * Posts a batch until the gate accepts it (202), as a well-behaved producer does: after a 429 it waits the
     * Retry-After the gate computed (at most 100 times; a 429 without one breaks the gate's contract and fails);
     * after a 503 or no answer (nothing or part was confirmed; resending the whole batch is safe, the trigger
     * skips ids it processed) it backs off, at most {@code maxTries} sends in all. Fails on any other status.
     */
    public void deliver(String batch, int maxTries) {
        Reply last;
        int throttled = 0;
        int unavailable = 0;
        while (true) {
            last = post(BATCH, batch);
            if (last.status() == 202) {
                return;
            }
            if (last.status() == 429 && last.retryAfter() != null && ++throttled < 100) {
                pause(waitBefore(throttled, last));
            } else if ((last.status() == 503 || last.status() == -1) && ++unavailable < maxTries) {
                pause(waitBefore(unavailable, last));
            } else {
                throw new IllegalStateException("gate did not accept a batch: " + last);
            }
        }
    }

    /**
     * How long a producer waits before it sends again after this answer, the {@code attempt}-th of its kind in a
     * row: the gate's Retry-After, else backoff (100-200 ms, doubling to 1-2 s), by the client's one rule.
     */
    public static Duration waitBefore(int attempt, Reply answer) {
        return BACKOFF.before(attempt, RetryAfter.parse(answer.retryAfter(), Instant.now()));
    }

    /** A producer's wait before it resends (client behaviour, not test synchronisation). */
    public static void pause(Duration wait) {
        java.util.concurrent.locks.LockSupport.parkNanos(wait.toNanos());
    }

    public static ObjectNode event(String id, String type, String key, Object data) {
        ObjectNode e = JSON.createObjectNode();
        e.put("specversion", "1.0");
        e.put("id", id);
        e.put("source", "/eventline/tests");
        e.put("type", type);
        e.put("partitionkey", key);
        e.put("datacontenttype", "application/json");
        e.set("data", JSON.valueToTree(data));
        return e;
    }
}
