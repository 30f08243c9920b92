package dev.eventline.testsupport;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** Posts CloudEvent batches to the gate over HTTP, as a producer would; resends on 503 a bounded number of times. */
public final class GateClient {

    private static final ObjectMapper JSON = new ObjectMapper();

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
        return post("application/cloudevents-batch+json", JSON.valueToTree(batch).toString());
    }

    /**
     * Posts a batch until the gate accepts it (202), as a well-behaved producer does: after a 429 it waits the
     * Retry-After the gate computed; after a 503 (nothing or part was confirmed; resending the whole batch is
     * safe, the trigger skips ids it processed) it backs off. Fails on any other status.
     */
    public void deliver(List<ObjectNode> batch, int maxTries) {
        Reply last = null;
        int throttled = 0;
        for (int attempt = 1; attempt <= maxTries; attempt++) {
            last = postBatch(batch);
            if (last.status() == 202) {
                return;
            }
            if (last.status() == 429 && last.retryAfter() != null && ++throttled <= 100) {
                pause(1000L * Long.parseLong(last.retryAfter()));
                attempt--; // throttling is not a failure: it says when to come back (bounded all the same)
                continue;
            }
            if (last.status() != 503 && last.status() != -1) {
                break;
            }
            pause(Math.min(2000, 50L << Math.min(attempt, 6)));
        }
        throw new IllegalStateException("gate did not accept a batch: " + last);
    }

    /** A producer's backoff between resends (client behaviour, not test synchronisation). */
    private static void pause(long millis) {
        java.util.concurrent.locks.LockSupport.parkNanos(Duration.ofMillis(millis).toNanos());
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
