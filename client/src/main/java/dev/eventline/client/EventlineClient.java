package dev.eventline.client;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.eventline.cloudevents.AttributeBounds;
import dev.eventline.cloudevents.PartitionKey;

/**
 * A producer for the gate ({@code POST /events}) that never loses an event: each event it takes leaves it
 * either <b>delivered</b> (the gate answered {@code 202}, or a {@code 503} that did not list it as failed)
 * or <b>rejected</b>, handed to the rejection handler with the reason, never silently.
 *
 * <p><b>Sending.</b> {@link #send} takes a structured CloudEvent (an {@link ObjectNode}) into a buffer bounded in
 * events and in bytes, and blocks while it is full, so the pressure reaches the producing code; {@link #offer}
 * gives up after a wait. Sender threads post batches of {@code application/cloudevents-batch+json}.
 *
 * <p><b>Answers</b> (the gate's contract, see the README):
 * <ul>
 * <li>{@code 202}: delivered. {@code 503} with {@code failed}: the others delivered, exactly the listed ones
 * sent again;</li>
 * <li>{@code 429}, {@code 503} without {@code failed}, another {@code 5xx}, {@code 408}, connection refused or
 * closed, timeout: the whole batch sent again, after {@code Retry-After} on {@code 429} and {@code 503}
 * (seconds or HTTP-date, at most {@link Builder#maxRetryAfter}), else after exponential backoff with jitter
 * (from {@link Builder#initialBackoff} to {@link Builder#maxBackoff}); with no limit on the number of
 * attempts: an event waits until it is accepted, refused, or the client is closed;</li>
 * <li>{@code 400}, {@code 403}, {@code 413} naming one event ({@code index}): that event rejected with the
 * gate's reason, the rest of the batch sent again (validation is all-or-nothing: nothing was published).
 * Without an index the batch is split in halves until the refused event stands alone (a body or batch over
 * the gate's limits); an event refused alone is rejected;</li>
 * <li>{@code 401}, any other {@code 4xx} (also {@code 415}), or an answer outside the contract (a {@code 200},
 * a redirect): the batch rejected.</li>
 * </ul>
 *
 * <p><b>Order per key.</b> Events with the same partition key ({@code partitionkey}, else {@code subject}: the
 * gate's rule) are sent one at a time: event k+1 of a key is sent only once event k was delivered or
 * rejected, across retries, splits and senders. So the gate accepts a key's events in the order they were
 * taken, also when it accepts only part of a batch. A rejected event does not hold its key's later events
 * back. Different keys go in parallel and fill the batches. An event without a partition key is rejected
 * at once, in the calling thread, and never sent.
 *
 * <p><b>Waiting.</b> A sender waits with its batch (for {@code Retry-After} or the backoff) while the other
 * senders go on with other keys. The gate throttles or refuses a request as a whole (a {@code 429} when any
 * of its functions is over its limit), so a producer that feeds functions under very different load may
 * prefer one client per function.
 *
 * <p><b>Flush and close.</b> {@link #flush} waits until nothing is outstanding. {@link #close} refuses new
 * events, flushes for {@link Builder#closeTimeout}, then gives up: it stops the senders and hands every event
 * still held (buffered, or in flight: the gate may have accepted those) to the rejection handler. So after
 * {@code close} returns, {@link #outstanding} is 0 and every event was delivered or handed over. Close the
 * client: its threads are daemons, and what it holds when the JVM exits unclosed is lost with them.
 *
 * <p>The rejection handler runs on a sender thread (several may call it at once), on the thread calling
 * {@code send} (no partition key, too large for the buffer) or on the one calling {@code close}; it should
 * not block for long, and must not call {@code close}. The producer key is never logged, and is removed
 * from any text of the gate's that reaches the handler.
 *
 * <pre>{@code
 * try (EventlineClient client = EventlineClient.builder(URI.create("http://gate:8080/events"))
 *         .apiKey(System.getenv("EVENTLINE_KEY"))
 *         .onRejected((events, reason) -> log.error("{} events refused: {}", events.size(), reason)).build()) {
 *     client.send(event);            // blocks while the buffer is full
 *     client.flush(Duration.ofMinutes(1));
 * }
 * }</pre>
 */
public final class EventlineClient implements AutoCloseable {

    private final Builder settings;
    private final KeyedBuffer buffer;
    private final Settlement settlement;
    private final List<Thread> senders = new ArrayList<>();
    private boolean closed;

    /** Counts since the client started: events delivered and rejected, answers that made it wait. */
    public record Stats(long delivered, long throttled, long unavailable, long rejected) {
    }

    /** @param gateEvents the gate's {@code /events} URL */
    public static Builder builder(URI gateEvents) {
        return new Builder(gateEvents);
    }

    private EventlineClient(Builder b) {
        this.settings = b;
        this.buffer = new KeyedBuffer(b.bufferCapacity, b.bufferBytes);
        this.settlement = new Settlement(buffer, b.onRejected);
        Delivery delivery = new Delivery(new GateTransport(b.gate, b.apiKey, b.connectTimeout, b.requestTimeout),
                settlement, new Backoff(b.initialBackoff, b.maxBackoff, b.maxRetryAfter));
        for (int i = 0; i < b.senders; i++) {
            Thread t = new Thread(() -> sendBatches(delivery), "eventline-client-sender-" + i);
            t.setDaemon(true);
            senders.add(t);
            t.start();
        }
    }

    private void sendBatches(Delivery delivery) {
        try {
            for (List<Pending> batch; !(batch = buffer.take(settings.batchSize, settings.maxRequestBytes,
                    settings.linger.toNanos())).isEmpty();) {
                delivery.deliver(batch);
            }
        } catch (InterruptedException e) {
            // close gave up: what this sender held is still in the buffer, and close hands it over
        }
    }

    /**
     * Takes one event, waiting while the buffer is full. An event without a partition key, or larger than the
     * whole buffer, is rejected at once (the rejection handler runs in this thread).
     *
     * @throws IllegalStateException when the client is closed (the event was not taken)
     */
    public void send(ObjectNode event) throws InterruptedException {
        Optional<Pending> p = pending(event);
        if (p.isPresent()) {
            buffer.put(p.get(), Long.MAX_VALUE);
        }
    }

    /**
     * Takes one event if the buffer has room within {@code wait}.
     *
     * @return false when the buffer stayed full (the event was not taken); true when it was taken, or rejected
     *         at once (no partition key, larger than the whole buffer)
     * @throws IllegalStateException when the client is closed (the event was not taken)
     */
    public boolean offer(ObjectNode event, Duration wait) throws InterruptedException {
        Optional<Pending> p = pending(event);
        return p.isEmpty() || buffer.put(p.get(), wait.toNanos());
    }

    /** The event encoded once, or empty when it was rejected at once. */
    private Optional<Pending> pending(ObjectNode event) {
        byte[] json;
        try {
            json = Pending.JSON.writeValueAsBytes(event);
        } catch (IOException e) {
            throw new UncheckedIOException("the event cannot be written as JSON", e);
        }
        String id = event.path("id").isTextual() ? event.get("id").asText() : null;
        Optional<String> key = PartitionKey.of(event);
        Pending p = new Pending(json, key.orElse(""), id);
        String outOfBounds = AttributeBounds.problem(event);
        if (key.isEmpty()) {
            settlement.handOver(List.of(p), "no partition key: set the 'partitionkey' attribute or 'subject' "
                    + "(the gate refuses such events); not sent");
        } else if (outOfBounds != null) {
            settlement.handOver(List.of(p), outOfBounds + " (the gate refuses such events); not sent");
        } else if (!buffer.canHold(p)) {
            settlement.handOver(List.of(p), "the event (" + json.length + " bytes) is larger than the client's "
                    + "buffer (bufferBytes " + settings.bufferBytes + "); not sent");
        } else {
            return Optional.of(p);
        }
        return Optional.empty();
    }

    /**
     * Waits until nothing is outstanding: every event taken so far (and while waiting) delivered or rejected.
     *
     * @return false when events were still outstanding after {@code timeout}
     */
    public boolean flush(Duration timeout) throws InterruptedException {
        return buffer.awaitEmpty(timeout.toNanos());
    }

    /** @return events taken and not yet delivered or rejected (buffered or in flight) */
    public long outstanding() {
        return buffer.events();
    }

    public Stats stats() {
        return new Stats(settlement.delivered.sum(), settlement.throttled.sum(), settlement.unavailable.sum(),
                settlement.rejected.sum());
    }

    /**
     * Refuses new events, waits up to {@link Builder#closeTimeout} for the outstanding ones, then stops the
     * senders and hands every event still held to the rejection handler ("the client was closed before the
     * gate confirmed it"; an event that was in flight may have been accepted all the same). Returns once that
     * is done; a second call does nothing.
     *
     * @throws InterruptedException when interrupted while waiting; the events are handed over all the same
     */
    @Override
    public synchronized void close() throws InterruptedException {
        if (closed) {
            return;
        }
        closed = true;
        buffer.closeIntake();
        try {
            buffer.awaitEmpty(settings.closeTimeout.toNanos());
        } finally {
            giveUp();
        }
    }

    private void giveUp() throws InterruptedException {
        buffer.stop();
        senders.forEach(Thread::interrupt);
        for (Thread t : senders) {
            t.join(TimeUnit.SECONDS.toMillis(5));
        }
        settlement.rejectAllHeld("the client was closed before the gate confirmed these events (any "
                + "that were in flight may have been accepted); not sent again");
    }

    /** Settings; every one has a default. */
    public static final class Builder {
        private final URI gate;
        private String apiKey;
        private int bufferCapacity = 10_000;
        private long bufferBytes = 32L << 20;
        private int batchSize = 100;
        private long maxRequestBytes = 1L << 20;
        private Duration linger = Duration.ZERO;
        private int senders = 2;
        private Duration initialBackoff = Duration.ofMillis(100);
        private Duration maxBackoff = Duration.ofSeconds(30);
        private Duration maxRetryAfter = Duration.ofSeconds(60);
        private Duration connectTimeout = Duration.ofSeconds(5);
        private Duration requestTimeout = Duration.ofSeconds(30);
        private Duration closeTimeout = Duration.ofSeconds(60);
        private BiConsumer<List<ObjectNode>, String> onRejected = (events, why) -> { };

        private Builder(URI gate) {
            if (gate == null || gate.getHost() == null
                    || !("http".equalsIgnoreCase(gate.getScheme()) || "https".equalsIgnoreCase(gate.getScheme()))) {
                throw new IllegalArgumentException("the gate's /events URL must be http(s)://host[:port]/events, not "
                        + (gate == null ? "null" : gate.getScheme() + "://" + gate.getHost() + gate.getPath()));
            }
            this.gate = gate;
        }

        /** The producer's key ({@code Authorization: Bearer}); none for an open gate. Never logged. */
        public Builder apiKey(String key) {
            if (key != null && !key.chars().allMatch(c -> c > ' ' && c < 127)) {
                throw new IllegalArgumentException("the producer key may hold printable ASCII characters only");
            }
            this.apiKey = key;
            return this;
        }

        /** Events held at most: buffered and in flight, all senders together. Default 10000. */
        public Builder bufferCapacity(int events) {
            this.bufferCapacity = (int) positive(events, "bufferCapacity");
            return this;
        }

        /** Bytes of encoded events held at most (buffered and in flight). Default 32 MiB. */
        public Builder bufferBytes(long bytes) {
            this.bufferBytes = positive(bytes, "bufferBytes");
            return this;
        }

        /** Events per request at most (keep it at or below the gate's max-batch-events). Default 100. */
        public Builder batchSize(int events) {
            this.batchSize = (int) positive(events, "batchSize");
            return this;
        }

        /** Bytes per request at most (an event larger than this goes alone). Default 1 MiB. */
        public Builder maxRequestBytes(long bytes) {
            this.maxRequestBytes = positive(bytes, "maxRequestBytes");
            return this;
        }

        /** How long a sender waits for a batch to fill before it sends what it has. Default 0. */
        public Builder linger(Duration wait) {
            this.linger = notNegative(wait, "linger");
            return this;
        }

        /** Concurrent requests. Default 2. */
        public Builder senders(int threads) {
            this.senders = (int) positive(threads, "senders");
            return this;
        }

        /** First wait before sending again after a failure without {@code Retry-After}. Default 100 ms. */
        public Builder initialBackoff(Duration wait) {
            this.initialBackoff = positive(wait, "initialBackoff");
            return this;
        }

        /** Cap on the backoff (it doubles per attempt, with jitter). Default 30 s. */
        public Builder maxBackoff(Duration max) {
            this.maxBackoff = notNegative(max, "maxBackoff");
            return this;
        }

        /** Cap on a wait the gate asks for with {@code Retry-After}. Default 60 s (the gate's own cap). */
        public Builder maxRetryAfter(Duration max) {
            this.maxRetryAfter = notNegative(max, "maxRetryAfter");
            return this;
        }

        /** Limit on opening a connection. Default 5 s. */
        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = positive(timeout, "connectTimeout");
            return this;
        }

        /** Limit on one request, until its whole answer is read; then the batch is sent again. Default 30 s. */
        public Builder requestTimeout(Duration timeout) {
            this.requestTimeout = positive(timeout, "requestTimeout");
            return this;
        }

        /** How long {@link EventlineClient#close} waits for outstanding events before it gives up. Default 60 s. */
        public Builder closeTimeout(Duration timeout) {
            this.closeTimeout = notNegative(timeout, "closeTimeout");
            return this;
        }

        /** Receives the events the client gives up on, with the reason (the gate's status and message). */
        public Builder onRejected(BiConsumer<List<ObjectNode>, String> handler) {
            this.onRejected = java.util.Objects.requireNonNull(handler, "onRejected");
            return this;
        }

        public EventlineClient build() {
            return new EventlineClient(this);
        }

        private static long positive(long n, String what) {
            if (n < 1) {
                throw new IllegalArgumentException(what + " must be at least 1");
            }
            return n;
        }

        private static Duration positive(Duration d, String what) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(what + " must be positive");
            }
            return d;
        }

        private static Duration notNegative(Duration d, String what) {
            if (d == null || d.isNegative()) {
                throw new IllegalArgumentException(what + " must not be negative");
            }
            return d;
        }
    }
}
