package dev.eventline.client;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.function.UnaryOperator;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * What one request got: the gate's status and JSON body, or no answer at all (connection refused or
 * closed, timeout: status {@link #NONE}). Reads the body defensively: a body that is not the gate's JSON,
 * a {@code failed} list that names events the request did not hold, or an {@code index} out of range is
 * treated as saying nothing, so that the client then resends rather than counting an event as delivered.
 */
final class Answer {

    /** The status of a request that got no answer. */
    static final int NONE = -1;
    private static final int MAX_TEXT = 300;

    /** What the client does about an answer. */
    enum Kind {
        /** {@code 202}: every event was confirmed. */
        ACCEPTED,
        /** {@code 429}, {@code 503}, another {@code 5xx}, {@code 408}, no answer: send again later. */
        RETRY,
        /** any other {@code 4xx}: the request can never be accepted as it is. */
        REFUSED,
        /** a status outside the gate's contract (1xx, 2xx but 202, 3xx). */
        UNEXPECTED
    }

    private final int status;
    private final JsonNode body;
    private final String text;
    private final Optional<Duration> retryAfter;
    private final UnaryOperator<String> redact;

    /** @param redact removes secrets from any text of the answer before it is shown */
    Answer(int status, JsonNode body, String text, Optional<Duration> retryAfter, UnaryOperator<String> redact) {
        this.status = status;
        this.body = body == null ? Pending.JSON.missingNode() : body;
        this.redact = redact;
        this.text = show(text);
        this.retryAfter = retryAfter;
    }

    static Answer none(String why, UnaryOperator<String> redact) {
        return new Answer(NONE, null, why, Optional.empty(), redact);
    }

    int status() {
        return status;
    }

    Kind kind() {
        if (status == 202) {
            return Kind.ACCEPTED;
        }
        if (status == NONE || status == 408 || status == 429 || status >= 500) {
            return Kind.RETRY;
        }
        return status >= 400 ? Kind.REFUSED : Kind.UNEXPECTED;
    }

    boolean throttled() {
        return status == 429;
    }

    /** The wait the gate asked for, on {@code 429} and {@code 503} only. */
    Optional<Duration> retryAfter() {
        return status == 429 || status == 503 ? retryAfter : Optional.empty();
    }

    /**
     * The events of {@code sent} that still need sending after this answer: on a {@code 503} whose
     * {@code failed} list is valid, exactly those it lists; otherwise all of them.
     */
    List<Pending> notAccepted(List<Pending> sent) {
        Optional<Set<Integer>> failed = status == 503 ? failedIndexes(sent) : Optional.empty();
        if (failed.isEmpty()) {
            return sent;
        }
        List<Pending> again = new ArrayList<>(failed.get().size());
        for (int i = 0; i < sent.size(); i++) {
            if (failed.get().contains(i)) {
                again.add(sent.get(i));
            }
        }
        return again;
    }

    /** Valid only when non-empty and every entry names an event of the request (by index, and id if given). */
    private Optional<Set<Integer>> failedIndexes(List<Pending> sent) {
        JsonNode failed = body.path("failed");
        if (!failed.isArray() || failed.isEmpty()) {
            return Optional.empty();
        }
        Set<Integer> indexes = new HashSet<>();
        for (JsonNode f : failed) {
            JsonNode index = f.path("index");
            if (!index.isInt() || index.asInt() < 0 || index.asInt() >= sent.size()
                    || f.has("id") && !f.path("id").asText().equals(sent.get(index.asInt()).id())) {
                return Optional.empty();
            }
            indexes.add(index.asInt());
        }
        return Optional.of(indexes);
    }

    /** On {@code 400}, {@code 403} or {@code 413}: the position of the one event the gate refused, if it names one. */
    OptionalInt refusedIndex(int size) {
        JsonNode index = body.path("index");
        if (!perEvent() || !index.isInt() || index.asInt() < 0 || index.asInt() >= size) {
            return OptionalInt.empty();
        }
        return OptionalInt.of(index.asInt());
    }

    /**
     * Whether the refusal can be about one event of the request rather than the request itself, so that
     * smaller parts may succeed: {@code 400}, {@code 403} and {@code 413}.
     */
    boolean perEvent() {
        return status == 400 || status == 403 || status == 413;
    }

    /** For the rejection handler and logs: status, the gate's error code, message and field; no secret. */
    String reason() {
        return redact.apply(describe());
    }

    private String describe() {
        if (status == NONE) {
            return "no answer from the gate: " + text;
        }
        String message = body.path("message").asText("");
        if (message.isEmpty()) {
            return status + (text.isEmpty() ? "" : ": " + text);
        }
        String field = body.path("field").asText("");
        return status + " " + show(body.path("error").asText("")) + ": " + show(message)
                + (field.isEmpty() ? "" : " (field '" + show(field) + "')");
    }

    /** Without secrets, printable, at most {@value #MAX_TEXT} characters. */
    private String show(String s) {
        return clip(redact.apply(s == null ? "" : s));
    }

    private static String clip(String s) {
        String printable = s.replaceAll("\\p{Cntrl}+", " ").strip();
        return printable.length() <= MAX_TEXT ? printable : printable.substring(0, MAX_TEXT) + "…";
    }
}
