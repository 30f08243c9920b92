package dev.eventline.fault;

import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import com.rabbitmq.client.AMQP;

import dev.eventline.broker.EventCodec;
import dev.eventline.broker.Headers;
import dev.eventline.topology.TopologySpec;

/**
 * How a failed event carries its history in AMQP headers: the one place that writes and reads them, for the
 * trigger's dead letters and delay queues ({@link DeadLetters}), the Knative dead-letter sink, replay and the
 * admin listing. Events the broker dead-lettered itself (delivery limit, a reject) carry only its
 * {@code x-death}, from which reason and queue are read instead.
 */
public final class DeadLetterFormat {

    public static final String ATTEMPTS = "eventline-attempts";
    public static final String REASON = "eventline-reason";
    public static final String ERROR_CLASS = "eventline-error-class";
    public static final String ERROR_MESSAGE = "eventline-error-message";
    public static final String FIRST_FAILURE = "eventline-first-failure";
    public static final String LAST_FAILURE = "eventline-last-failure";
    public static final String ORIGINAL_QUEUE = "eventline-original-queue";
    /** How many times an operator replayed the event from the dead-letter queue. */
    public static final String REPLAYS = "eventline-replays";
    /** Longest error message kept in a header. */
    public static final int MAX_MESSAGE = 1000;

    /** The broker's own dead-lettering and redelivery headers, which a copy we publish must not carry on. */
    private static final List<String> BROKER_HISTORY = List.of("x-death", "x-first-death-exchange",
            "x-first-death-queue", "x-first-death-reason", "x-last-death-exchange", "x-last-death-queue",
            "x-last-death-reason", "x-delivery-count");

    private DeadLetterFormat() {
    }

    /**
     * A failure history, as written; any field may be null.
     *
     * @param originalQueue the partition the event failed in (or {@code knative:<destination>})
     * @param firstFailure  kept from an earlier history when there is one
     */
    public record History(String reason, int attempts, String originalQueue, Instant firstFailure,
            Instant lastFailure, String errorClass, String errorMessage) {

        /** The history of a failure of the trigger's: the error's class and message (cut at {@value #MAX_MESSAGE}). */
        public static History of(String queue, DeadLetters.Failure failure) {
            Throwable error = failure.error();
            String message = error == null ? null : String.valueOf(error.getMessage());
            return new History(failure.reason(), failure.attempts(), queue, failure.first(), failure.last(),
                    error == null ? null : error.getClass().getName(),
                    message == null || message.length() <= MAX_MESSAGE ? message : message.substring(0, MAX_MESSAGE));
        }
    }

    /**
     * The headers of a copy of {@code original} that carries this history: the original's own headers, without
     * the broker's dead-lettering ones, and a first failure already recorded is kept.
     */
    public static Map<String, Object> withHistory(AMQP.BasicProperties original, History history) {
        Map<String, Object> headers = new HashMap<>();
        if (original.getHeaders() != null) {
            headers.putAll(original.getHeaders());
        }
        BROKER_HISTORY.forEach(headers::remove);
        put(headers, REASON, history.reason());
        headers.put(ATTEMPTS, history.attempts());
        put(headers, ORIGINAL_QUEUE, history.originalQueue());
        if (history.firstFailure() != null) {
            headers.putIfAbsent(FIRST_FAILURE, history.firstFailure().toString());
        }
        if (history.lastFailure() != null) {
            headers.put(LAST_FAILURE, history.lastFailure().toString());
        }
        put(headers, ERROR_CLASS, history.errorClass());
        put(headers, ERROR_MESSAGE, history.errorMessage());
        return headers;
    }

    private static void put(Map<String, Object> headers, String name, String value) {
        if (value == null) {
            headers.remove(name);
        } else {
            headers.put(name, value);
        }
    }

    /**
     * The headers of a replayed copy: the event's own headers and its partition key, no failure history (ours or
     * the broker's) and no delay level, the replay counted, accepted now.
     */
    public static Map<String, Object> replayed(AMQP.BasicProperties original) {
        Map<String, Object> headers = new HashMap<>();
        if (original.getHeaders() != null) {
            original.getHeaders().forEach((k, v) -> {
                if (!k.startsWith("x-") && !k.startsWith("eventline-")) {
                    headers.put(k, v);
                }
            });
            headers.put(EventCodec.PARTITION_KEY, original.getHeaders().get(EventCodec.PARTITION_KEY));
        }
        headers.put(REPLAYS, Headers.count(original, REPLAYS) + 1L);
        headers.put(EventCodec.ACCEPTED_AT, System.currentTimeMillis());
        headers.remove(TopologySpec.DELAY_LEVEL);
        return headers;
    }

    /** What a dead-lettered message says of its failure, from our headers, else from the broker's. */
    public record Read(String reason, int attempts, String originalQueue, String firstFailure, String lastFailure,
            String errorClass, String errorMessage, int replays) {
    }

    /** Reads the history of a dead-lettered message, whatever its headers hold; reason "unknown" when none. */
    public static Read read(AMQP.BasicProperties p) {
        String reason = Headers.text(p, REASON);
        String queue = Headers.text(p, ORIGINAL_QUEUE);
        // x-death lists the most recent dead-lettering first (an event may have expired from a delay queue
        // before the broker dead-lettered it for good)
        if (reason == null && Headers.get(p, "x-death") instanceof List<?> deaths && !deaths.isEmpty()
                && deaths.get(0) instanceof Map<?, ?> death) {
            reason = "broker: " + Headers.textOf(death.get("reason"));
            queue = queue != null ? queue : Headers.textOf(death.get("queue"));
        }
        if (reason == null && Headers.get(p, "x-first-death-reason") != null) {
            reason = "broker: " + Headers.text(p, "x-first-death-reason");
            queue = queue != null ? queue : Headers.text(p, "x-first-death-queue");
        }
        return new Read(reason == null ? "unknown" : reason, Headers.count(p, ATTEMPTS), queue,
                Headers.text(p, FIRST_FAILURE), Headers.text(p, LAST_FAILURE), Headers.text(p, ERROR_CLASS),
                Headers.text(p, ERROR_MESSAGE), Headers.count(p, REPLAYS));
    }
}
