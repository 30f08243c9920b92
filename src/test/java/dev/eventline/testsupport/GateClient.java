package dev.eventline.testsupport;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

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
    private static final Backoff BACKOFF = new Backoff(Duration.ofMillis(50), Duration.ofSeconds(2), Duration.ofSeconds(60));

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

    /**
     * How long a producer keeps resending one batch: at most {@code maxUnavailable} sends answered 503 (or not at
     * all), at most {@code maxThrottled} answered 429; each such answer is counted.
     */
    public record Resends(int maxUnavailable, int maxThrottled, LongAdder throttled, LongAdder unavailable) {

        public static Resends upTo(int maxUnavailable) {
            return new Resends(maxUnavailable, 100, new LongAdder(), new LongAdder());
        }
    }

    /** {@link #deliver(String, Resends)} of a batch, at most {@code maxTries} sends that the gate could not take. */
    public void deliver(List<ObjectNode> batch, int maxTries) {
        deliver(JSON.valueToTree(batch).toString(), Resends.upTo(maxTries));
    }

    /**
     * Posts a batch until the gate accepts it (202), as a well-behaved producer does: after a 429 it waits the
     * Retry-After the gate computed; after a 503 (nothing or part was confirmed; resending the whole batch is
     * safe, the trigger skips ids it processed) it backs off. Fails on any other status, or past the bounds.
     */
    public void deliver(String batch, Resends resends) {
        Reply last;
        int throttled = 0;
        int unavailable = 0;
        while (true) {
            last = post(BATCH, batch);
            int attempt;
            if (last.status() == 202) {
                return;
            } else if (last.status() == 429) {
                resends.throttled().increment();
                attempt = ++throttled;
                if (attempt > resends.maxThrottled()) {
                    break;
                }
            } else if (last.status() == 503 || last.status() == -1) {
                resends.unavailable().increment();
                attempt = ++unavailable;
                if (attempt >= resends.maxUnavailable()) {
                    break;
                }
            } else {
                break;
            }
            pause(BACKOFF.before(attempt, RetryAfter.parse(last.retryAfter(), Instant.now())));
        }
        throw new IllegalStateException("gate did not accept a batch: " + last);
    }

    /** A producer's wait before it resends (client behaviour, not test synchronisation). */
    private static void pause(Duration wait) {
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
