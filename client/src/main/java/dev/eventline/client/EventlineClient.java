package dev.eventline.client;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BiConsumer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A producer for the gate that slows down instead of failing. Events (structured CloudEvents) go into a
 * bounded buffer; sender threads post them in batches and honour the gate's answers:
 * <ul>
 * <li>{@code 202}: delivered;</li>
 * <li>{@code 429}: wait {@code Retry-After} seconds, then send the same batch again;</li>
 * <li>{@code 503} or no answer: back off exponentially (with jitter, capped) and send again: only the events
 * listed in {@code failed} when the gate says which;</li>
 * <li>any other {@code 4xx} (not 408): the events can never be accepted as they are; they go to the
 * rejection handler and are not retried;</li>
 * <li>{@code 5xx} and {@code 408}: sent again with backoff.</li>
 * </ul>
 * When the buffer is full, {@link #send} blocks and {@link #offer} times out, so the pressure reaches the
 * code producing events. Events of one partition key always go through the same sender, in order.
 *
 * <pre>{@code
 * try (EventlineClient client = EventlineClient.builder(URI.create("http://gate:8080/events"))
 *         .apiKey(System.getenv("EVENTLINE_KEY")).build()) {
 *     client.send(event);            // blocks while the buffer is full
 *     client.flush(Duration.ofMinutes(1));
 * }
 * }</pre>
 */
public final class EventlineClient implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String BATCH = "application/cloudevents-batch+json";

    private final HttpClient http;
    private final URI gate;
    private final Builder settings;
    private final List<BlockingQueue<ObjectNode>> buffers = new ArrayList<>();
    private final List<Thread> senders = new ArrayList<>();
    /** Events taken by send/offer and not yet delivered or rejected. */
    private final java.util.concurrent.atomic.AtomicLong outstanding = new java.util.concurrent.atomic.AtomicLong();
    private final LongAdder delivered = new LongAdder();
    private final LongAdder throttled = new LongAdder();
    private final LongAdder unavailable = new LongAdder();
    private final LongAdder rejected = new LongAdder();
    private volatile boolean closing;

    /** Counts since the client started. */
    public record Stats(long delivered, long throttled, long unavailable, long rejected) {
    }

    public static Builder builder(URI gateEvents) {
        return new Builder(gateEvents);
    }

    /** Settings; every one has a default. */
    public static final class Builder {
        private final URI gate;
        private String apiKey;
        private int bufferCapacity = 10_000;
        private int batchSize = 100;
        private int senders = 2;
        private Duration maxBackoff = Duration.ofSeconds(30);
        private Duration requestTimeout = Duration.ofSeconds(30);
        private BiConsumer<List<ObjectNode>, String> onRejected = (events, why) -> { };

        private Builder(URI gate) {
            this.gate = gate;
        }

        /** The producer's key ({@code Authorization: Bearer}); none for an open gate. */
        public Builder apiKey(String key) {
            this.apiKey = key;
            return this;
        }

        /** Events buffered at most (all senders together). Default 10000. */
        public Builder bufferCapacity(int events) {
            this.bufferCapacity = positive(events, "bufferCapacity");
            return this;
        }

        /** Events per request at most. Default 100 (keep it at or below the gate's max-batch-events). */
        public Builder batchSize(int events) {
            this.batchSize = positive(events, "batchSize");
            return this;
        }

        /** Concurrent requests; events of one key always use the same one. Default 2. */
        public Builder senders(int threads) {
            this.senders = positive(threads, "senders");
            return this;
        }

        /** Cap on the wait between retries after {@code 503} or a lost connection. Default 30s. */
        public Builder maxBackoff(Duration max) {
            this.maxBackoff = max;
            return this;
        }

        public Builder requestTimeout(Duration timeout) {
            this.requestTimeout = timeout;
            return this;
        }

        /** Called with events the gate refused for good (a 4xx other than 408 and 429) and its answer. */
        public Builder onRejected(BiConsumer<List<ObjectNode>, String> handler) {
            this.onRejected = handler;
            return this;
        }

        public EventlineClient build() {
            return new EventlineClient(this);
        }

        private static int positive(int n, String what) {
            if (n < 1) {
                throw new IllegalArgumentException(what + " must be at least 1");
            }
            return n;
        }
    }

    private EventlineClient(Builder b) {
        this.settings = b;
        this.gate = b.gate;
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        int perSender = Math.max(1, b.bufferCapacity / b.senders);
        for (int i = 0; i < b.senders; i++) {
            BlockingQueue<ObjectNode> buffer = new ArrayBlockingQueue<>(perSender);
            buffers.add(buffer);
            Thread t = new Thread(() -> run(buffer), "eventline-client-" + i);
            t.setDaemon(true);
            senders.add(t);
            t.start();
        }
    }

    /**
     * Buffers one event, waiting while the buffer is full.
     *
     * @throws IllegalStateException when the client is (or gets) closed before the event was taken
     */
    public void send(ObjectNode event) throws InterruptedException {
        BlockingQueue<ObjectNode> buffer = buffer(event);
        outstanding.incrementAndGet();
        try {
            do {
                checkOpen();
            } while (!buffer.offer(event, 100, TimeUnit.MILLISECONDS));
        } catch (InterruptedException | RuntimeException e) {
            outstanding.decrementAndGet();
            throw e;
        }
    }

    /** @return false when the buffer stayed full for {@code wait} (the event was not taken) */
    public boolean offer(ObjectNode event, Duration wait) throws InterruptedException {
        checkOpen();
        outstanding.incrementAndGet();
        boolean taken = false;
        try {
            taken = buffer(event).offer(event, wait.toNanos(), TimeUnit.NANOSECONDS);
            return taken;
        } finally {
            if (!taken) {
                outstanding.decrementAndGet();
            }
        }
    }

    /** @return true when every event taken so far was delivered or rejected within the timeout */
    public boolean flush(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (outstanding.get() > 0) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            TimeUnit.MILLISECONDS.sleep(10);
        }
        return true;
    }

    public Stats stats() {
        return new Stats(delivered.sum(), throttled.sum(), unavailable.sum(), rejected.sum());
    }

    /**
     * Flushes (up to the request timeout times 10), then stops the senders. Events still buffered then are
     * counted as rejected and handed to the rejection handler, never dropped silently.
     */
    @Override
    public void close() throws InterruptedException {
        flush(settings.requestTimeout.multipliedBy(10));
        closing = true;
        senders.forEach(Thread::interrupt);
        for (Thread t : senders) {
            t.join(5_000);
        }
        List<ObjectNode> left = new ArrayList<>();
        buffers.forEach(b -> b.drainTo(left));
        if (!left.isEmpty()) {
            rejected.add(left.size());
            outstanding.addAndGet(-left.size());
            settings.onRejected.accept(List.copyOf(left), "the client was closed before these were delivered");
        }
    }

    private void checkOpen() {
        if (closing) {
            throw new IllegalStateException("the client is closed");
        }
    }

    private BlockingQueue<ObjectNode> buffer(ObjectNode event) {
        JsonNode key = event.hasNonNull("partitionkey") ? event.get("partitionkey") : event.get("subject");
        int h = key == null ? ThreadLocalRandom.current().nextInt() : key.asText().hashCode();
        return buffers.get(Math.floorMod(h, buffers.size()));
    }

    private void run(BlockingQueue<ObjectNode> buffer) {
        List<ObjectNode> batch = new ArrayList<>(settings.batchSize);
        while (!closing) {
            try {
                ObjectNode first = buffer.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                try {
                    batch.add(first);
                    buffer.drainTo(batch, settings.batchSize - 1);
                    deliver(batch);
                } catch (InterruptedException e) {
                    // closed while this batch was still undelivered: hand what is left over, never drop it silently
                    if (batch.isEmpty()) {
                        return;
                    }
                    rejected.add(batch.size());
                    outstanding.addAndGet(-batch.size());
                    settings.onRejected.accept(List.copyOf(batch), "the client was closed before these were delivered");
                    return;
                } finally {
                    batch.clear();
                }
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Sends until every event of the batch is delivered or rejected for good. */
    private void deliver(List<ObjectNode> batch) throws InterruptedException {
        List<ObjectNode> pending = batch; // shrinks as events are delivered, so an interruption knows what is left
        for (int attempt = 0; !pending.isEmpty(); attempt++) {
            Answer answer = post(pending);
            switch (answer.status) {
                case 202 -> {
                    delivered.add(pending.size());
                    outstanding.addAndGet(-pending.size());
                    pending.clear();
                    return;
                }
                case 429 -> {
                    throttled.increment();
                    Duration wait = answer.retryAfter.orElse(Duration.ZERO);
                    sleep(wait.isZero() ? backoff(attempt) : wait);
                }
                case 408 -> sleep(backoff(attempt)); // request timeout: send again
                default -> {
                    if (answer.status >= 400 && answer.status < 500) {
                        // 400, 401, 403, 404, 413, 415, …: the same request can never succeed
                        rejected.add(pending.size());
                        outstanding.addAndGet(-pending.size());
                        settings.onRejected.accept(List.copyOf(pending), answer.status + " " + answer.body);
                        pending.clear();
                        return;
                    }
                    // 503, another 5xx, or no answer
                    unavailable.increment();
                    List<ObjectNode> again = stillFailed(pending, answer);
                    pending.clear();
                    pending.addAll(again);
                    sleep(backoff(attempt));
                }
            }
        }
    }

    /** After a 503 that lists the failed events, only those need sending again. */
    private List<ObjectNode> stillFailed(List<ObjectNode> pending, Answer answer) {
        try {
            JsonNode failed = answer.status == 503 ? JSON.readTree(answer.body).get("failed") : null;
            if (failed == null || !failed.isArray()) {
                return pending;
            }
            List<ObjectNode> again = new ArrayList<>();
            failed.forEach(f -> {
                int i = f.path("index").asInt(-1);
                if (i >= 0 && i < pending.size()) {
                    again.add(pending.get(i));
                }
            });
            delivered.add(pending.size() - again.size());
            outstanding.addAndGet(-(pending.size() - again.size()));
            return again;
        } catch (IOException e) {
            return pending;
        }
    }

    private record Answer(int status, String body, Optional<Duration> retryAfter) {
    }

    private Answer post(List<ObjectNode> events) throws InterruptedException {
        ArrayNode array = JSON.createArrayNode();
        events.forEach(array::add);
        HttpRequest.Builder request = HttpRequest.newBuilder(gate).timeout(settings.requestTimeout)
                .header("Content-Type", BATCH).POST(HttpRequest.BodyPublishers.ofString(array.toString()));
        if (settings.apiKey != null) {
            request.header("Authorization", "Bearer " + settings.apiKey);
        }
        try {
            HttpResponse<String> r = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
            Optional<Duration> retryAfter = r.headers().firstValue("Retry-After").flatMap(v -> {
                try {
                    return Optional.of(Duration.ofSeconds(Math.max(0, Long.parseLong(v.trim()))));
                } catch (NumberFormatException e) {
                    return Optional.empty();
                }
            });
            return new Answer(r.statusCode(), r.body(), retryAfter);
        } catch (IOException e) {
            return new Answer(-1, e.toString(), Optional.empty());
        }
    }

    private Duration backoff(int attempt) {
        long capped = Math.min(settings.maxBackoff.toMillis(), 100L << Math.min(attempt, 16));
        return Duration.ofMillis(capped / 2 + ThreadLocalRandom.current().nextLong(capped / 2 + 1));
    }

    private void sleep(Duration d) throws InterruptedException {
        TimeUnit.MILLISECONDS.sleep(d.toMillis());
    }
}
