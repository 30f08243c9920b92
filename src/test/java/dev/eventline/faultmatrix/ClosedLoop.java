package dev.eventline.faultmatrix;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.locks.LockSupport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.eventline.client.Backoff;
import dev.eventline.client.RetryAfter;

/**
 * A steady closed-loop load through the gate, the way careful producers behave: each producer owns its keys
 * and sends one batch holding the next step of every key it owns; a key moves on to its next step only once
 * its current one was accepted (202, or absent from a 503's {@code failed} list). A 429 waits
 * {@code Retry-After}; a 503, a refused connection or a timeout backs off and sends the same steps again.
 * The producers pace themselves to a total rate below what the pipeline can take, so the queues stay short
 * and a fault's effect on throughput shows (an unpaced loop only stops growing the queues at the gate's
 * admission limits). Every answer is recorded with its time and duration.
 */
final class ClosedLoop {

    private static final ObjectMapper JSON = new ObjectMapper();
    /**
     * Short waits, as before the rule was shared (100, 200, 400 ms, ... 1 s), now with its jitter (each wait
     * between half that and that): the matrix measures how soon the pipeline flows again after a fault.
     */
    private static final Backoff BACKOFF = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(1), Duration.ofSeconds(60));

    /**
     * One HTTP answer: status (-1 no connection, -2 timed out), when it came (epoch ms), how long it took, and
     * how many events it accepted.
     */
    record Answer(int status, long atMillis, long tookMillis, int accepted) {
    }

    /** What a step asks of the handler (the matrix's poison and hanging rows). */
    interface Faults {
        /** @return {@code poison}, {@code hang} or null */
        String of(String key, long step);
    }

    private final URI gate;
    private final String prefix;
    private final Duration requestTimeout;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final Map<String, Long> accepted = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<Answer> answers = new ConcurrentLinkedQueue<>();
    private final ExecutorService pool;
    private final List<Future<?>> producers = new ArrayList<>();
    private volatile boolean running = true;
    private volatile Faults faults = (key, step) -> null;
    private volatile long hangMs;
    private volatile String failure;
    /** Why the gate refused, as its 503 bodies say (the error's message, and each failed event's reason), counted. */
    private final Map<String, Integer> refusals = new ConcurrentHashMap<>();
    private final long batchIntervalNanos;

    /** @param ratePerSecond events per second offered by all producers together */
    ClosedLoop(URI gate, String prefix, int producerCount, int keysEach, double ratePerSecond,
            Duration requestTimeout) {
        this.gate = gate;
        this.batchIntervalNanos = (long) (1e9 * keysEach * producerCount / ratePerSecond);
        this.prefix = prefix;
        this.requestTimeout = requestTimeout;
        this.pool = Executors.newFixedThreadPool(producerCount);
        for (int p = 0; p < producerCount; p++) {
            List<String> keys = new ArrayList<>();
            for (int k = 0; k < keysEach; k++) {
                keys.add(prefix + "p" + p + "k" + k);
            }
            producers.add(pool.submit(() -> produce(keys)));
        }
    }

    void faults(Faults f, long hangMillis) {
        this.hangMs = hangMillis;
        this.faults = f;
    }

    private Void produce(List<String> keys) {
        Map<String, Long> next = new java.util.LinkedHashMap<>();
        keys.forEach(k -> next.put(k, 1L));
        int attempt = 0;
        long slot = System.nanoTime();
        while (running) {
            List<String> batchKeys = new ArrayList<>(next.keySet());
            ArrayNode batch = JSON.createArrayNode();
            for (String key : batchKeys) {
                batch.add(event(key, next.get(key)));
            }
            int status;
            Set<String> failed = new HashSet<>(batchKeys);
            String retryAfter = null;
            long t0 = System.nanoTime();
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(gate).timeout(requestTimeout)
                        .header("Content-Type", "application/cloudevents-batch+json")
                        .POST(HttpRequest.BodyPublishers.ofString(batch.toString())).build(),
                        HttpResponse.BodyHandlers.ofString());
                status = r.statusCode();
                if (r.statusCode() == 202) {
                    failed.clear();
                } else if (r.statusCode() == 503) {
                    failed = failedKeys(r.body(), batchKeys);
                    countRefusal(r.body());
                } else if (r.statusCode() != 429) {
                    failure = "the gate answered " + r.statusCode() + ": " + r.body();
                }
                retryAfter = r.headers().firstValue("Retry-After").orElse(null);
            } catch (HttpTimeoutException e) {
                status = -2;
            } catch (IOException e) {
                status = -1;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
            answers.add(new Answer(status, System.currentTimeMillis(), millisSince(t0), batchKeys.size() - failed.size()));
            for (String key : batchKeys) {
                if (!failed.contains(key)) {
                    accepted.put(key, next.get(key));
                    next.put(key, next.get(key) + 1);
                }
            }
            attempt = failed.isEmpty() ? 0 : attempt + 1;
            if (!failed.isEmpty()) {
                // a producer's wait, by the client's rule
                LockSupport.parkNanos(BACKOFF.before(attempt, RetryAfter.parse(retryAfter, Instant.now())).toNanos());
            }
            slot = Math.max(slot + batchIntervalNanos, System.nanoTime() - batchIntervalNanos); // no burst to catch up
            LockSupport.parkNanos(slot - System.nanoTime()); // the producer's pace

        }
        return null;
    }

    /** Counts a 503's reasons, digits blanked so that one cause with changing numbers counts as one. */
    private void countRefusal(String body) {
        Set<String> reasons = new HashSet<>();
        try {
            JsonNode error = JSON.readTree(body);
            reasons.add(error.path("message").asText(error.path("detail").asText("?")));
            for (JsonNode f : error.path("failed")) {
                reasons.add("event: " + f.path("reason").asText());
            }
        } catch (IOException | RuntimeException e) {
            reasons.add("unreadable body");
        }
        for (String r : reasons) {
            String shown = r.replaceAll("[0-9]+", "N");
            refusals.merge(shown.length() > 200 ? shown.substring(0, 200) : shown, 1, Integer::sum);
        }
    }

    /** @return the gate's 503 reasons so far, each with how many 503s gave it */
    Map<String, Integer> refusals() {
        return Map.copyOf(refusals);
    }

    /** The keys whose events a 503 lists in {@code failed}; all of them when it lists none. */
    private static Set<String> failedKeys(String body, List<String> batchKeys) {
        try {
            JsonNode failed = JSON.readTree(body).path("failed");
            if (!failed.isArray()) {
                return new HashSet<>(batchKeys);
            }
            Set<String> keys = new HashSet<>();
            for (JsonNode f : failed) {
                keys.add(batchKeys.get(f.path("index").asInt()));
            }
            return keys;
        } catch (IOException | RuntimeException e) {
            return new HashSet<>(batchKeys);
        }
    }

    private ObjectNode event(String key, long step) {
        String fault = faults.of(key, step);
        ObjectNode e = JSON.createObjectNode();
        e.put("specversion", "1.0");
        e.put("id", key + "-" + step);
        e.put("source", "/faultmatrix");
        e.put("type", "bench.noop");
        e.put("partitionkey", key);
        ObjectNode data = e.putObject("data");
        data.put("key", key);
        data.put("step", step);
        if (fault != null) {
            data.put("fault", fault);
            data.put("hangMs", hangMs);
        }
        return e;
    }

    private static long millisSince(long t0) {
        return (System.nanoTime() - t0) / 1_000_000;
    }

    /** Stops sending; returns once every producer's request in flight has been answered. */
    void stop() throws Exception {
        running = false;
        for (Future<?> f : producers) {
            f.get();
        }
        pool.shutdown();
    }

    /** @return key → the last step the gate accepted (steps 1..n of the key were accepted) */
    Map<String, Long> accepted() {
        return Map.copyOf(accepted);
    }

    long acceptedTotal() {
        return accepted.values().stream().mapToLong(Long::longValue).sum();
    }

    List<Answer> answers() {
        return List.copyOf(answers);
    }

    /** @return events accepted per 100 ms from {@code fromMillis} (bucket 0) to {@code toMillis} */
    long[] acceptedPerTenthOfASecond(long fromMillis, long toMillis) {
        long[] buckets = new long[(int) Math.max(0, (toMillis - fromMillis) / 100)];
        for (Answer a : answers) {
            long at = a.atMillis() - fromMillis;
            if (at >= 0 && at / 100 < buckets.length) {
                buckets[(int) (at / 100)] += a.accepted();
            }
        }
        return buckets;
    }

    /** A 4xx the load never expects (the load itself is broken), or null. */
    String failure() {
        return failure;
    }

    String prefix() {
        return prefix;
    }
}
