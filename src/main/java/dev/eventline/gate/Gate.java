package dev.eventline.gate;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.eventline.broker.ConfirmingPublisher;
import dev.eventline.broker.EventCodec;
import dev.eventline.broker.OutgoingMessage;
import dev.eventline.broker.PublishException;
import dev.eventline.broker.Publishing;
import dev.eventline.config.EventlineConfig;
import dev.eventline.config.FunctionCatalog;
import dev.eventline.config.FunctionDescription;
import dev.eventline.http.EventReader;
import dev.eventline.http.HttpError;
import dev.eventline.metrics.PipelineMetrics;
import dev.eventline.topology.Names;
import dev.eventline.topology.Partitioning;

/**
 * Accepts CloudEvents: reads and validates the whole request first (a batch is all-or-nothing at
 * validation), asks admission control, then publishes every event to its function's exchange, routed to the
 * partition of its key ({@link Partitioning}), and answers {@code 202} only when the broker confirmed all of them.
 */
@ApplicationScoped
public class Gate {

    private final EventReader reader;
    private final EventValidator validator;
    private final EventCodec codec;
    private final Names names;
    private final Publishing publishing;
    private final AdmissionControl admission;
    private final PipelineMetrics metrics;
    private final EventlineConfig.Gate config;
    private final ObjectMapper json;
    private final ProducerAuth auth;

    @Inject
    public Gate(ObjectMapper json, FunctionCatalog catalog, EventCodec codec, Names names, Publishing publishing,
            AdmissionControl admission, PipelineMetrics metrics, EventlineConfig config) {
        this.json = json;
        this.reader = new EventReader(json, config.gate().maxBatchEvents(), config.gate().maxEventBytes());
        this.validator = new EventValidator(catalog, codec, config.gate().maxEventBytes());
        this.codec = codec;
        this.names = names;
        this.publishing = publishing;
        this.admission = admission;
        this.metrics = metrics;
        this.config = config.gate();
        this.auth = config.gate().enabled() ? new ProducerAuth(config.gate()) : null;
    }

    /** The gate's answer: status, JSON body, and for {@code 429} the seconds of {@code Retry-After}. */
    public record Reply(int status, ObjectNode body, Integer retryAfterSeconds) {

        Reply(int status, ObjectNode body) {
            this(status, body, null);
        }
    }

    /**
     * Checks the producer's credential: the door asks before it reads the body.
     *
     * @param authorization the request's {@code Authorization} header, or null
     * @return the producer's name
     * @throws HttpError 401
     */
    public String authenticate(String authorization) {
        return auth.authenticate(authorization);
    }

    /** Counts a request refused before it reached {@link #accept} (at the door), and answers it. */
    public Reply refused(HttpError e) {
        metrics.gateRequest(outcome(e.status()));
        return new Reply(e.status(), e.body(), e.retryAfterSeconds());
    }

    /**
     * Runs on a worker thread (it may block for admission and for a free channel); the confirms are awaited
     * without blocking. Events are built and validated one at a time; only their encoded form is kept.
     *
     * @param producer who sent the request, as {@link #authenticate} named it
     */
    public CompletableFuture<Reply> accept(String producer, String contentType,
            Iterable<Map.Entry<String, String>> headers, byte[] body) {
        List<EventValidator.ValidEvent> events;
        try {
            EventReader.Events raw = reader.events(contentType, headers, body);
            events = new ArrayList<>(raw.size());
            for (int i = 0; i < raw.size(); i++) {
                Integer index = raw.batch() ? i : null;
                EventValidator.ValidEvent event = validator.validate(raw.get(i), index);
                auth.authorize(producer, event.type(), index);
                events.add(event);
            }
            admission.admit(producer, countPerFunction(events));
        } catch (HttpError e) {
            return CompletableFuture.completedFuture(refused(e));
        }
        return publish(events);
    }

    private CompletableFuture<Reply> publish(List<EventValidator.ValidEvent> events) {
        ConfirmingPublisher publisher = publishing.publisher().orElse(null);
        if (publisher == null) {
            admission.released(countPerFunction(events));
            return CompletableFuture.completedFuture(unavailable("the broker has not been reached yet", null));
        }
        long now = System.currentTimeMillis();
        long published = System.nanoTime();
        List<OutgoingMessage> messages = new ArrayList<>(events.size());
        for (EventValidator.ValidEvent e : events) {
            messages.add(new OutgoingMessage(names.exchange(e.function().name()),
                    Partitioning.routingKey(e.partitionKey(), e.function().partitions()),
                    codec.properties(e.id(), e.type(), e.partitionKey(), now), e.body()));
        }
        List<CompletableFuture<Void>> confirms;
        try {
            confirms = publisher.publish(messages, config.confirmTimeout());
        } catch (PublishException e) {
            admission.released(countPerFunction(events));
            return CompletableFuture.completedFuture(unavailable(e.getMessage(), null));
        }
        return CompletableFuture.allOf(confirms.stream().map(f -> f.exceptionally(t -> null))
                .toArray(CompletableFuture[]::new))
                .orTimeout(config.confirmTimeout().toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)
                .handle((ok, timeout) -> reply(events, confirms, published));
    }

    /** @param published when the publish call began ({@link System#nanoTime}), for the confirm timer */
    private Reply reply(List<EventValidator.ValidEvent> events, List<CompletableFuture<Void>> confirms,
            long published) {
        ArrayNode failed = json.createArrayNode();
        Map<FunctionDescription, Integer> notAccepted = new LinkedHashMap<>();
        Map<FunctionDescription, Integer> confirmed = new LinkedHashMap<>();
        for (int i = 0; i < events.size(); i++) {
            EventValidator.ValidEvent e = events.get(i);
            CompletableFuture<Void> confirm = confirms.get(i);
            if (confirm.isDone() && !confirm.isCompletedExceptionally()) {
                metrics.gateEvents(e.function().name(), "accepted");
                confirmed.merge(e.function(), 1, Integer::sum);
                continue;
            }
            metrics.gateEvents(e.function().name(), "unavailable");
            notAccepted.merge(e.function(), 1, Integer::sum);
            ObjectNode f = failed.addObject();
            f.put("index", i);
            f.put("id", e.id());
            f.put("reason", reason(confirm));
        }
        admission.confirmed(confirmed);
        admission.released(notAccepted);
        if (failed.isEmpty()) {
            // timed only when every event was confirmed: a nack, a return or a closed channel fails early and a
            // timeout at the limit, and either would read as the broker's speed
            Duration confirmTime = Duration.ofNanos(System.nanoTime() - published);
            confirmed.keySet().forEach(fn -> metrics.confirmTime(fn.name(), confirmTime));
            metrics.gateRequest("accepted");
            ObjectNode body = json.createObjectNode();
            body.put("accepted", events.size());
            return new Reply(202, body);
        }
        return unavailable("the broker did not confirm " + failed.size() + " of " + events.size()
                + " events; resend those listed in 'failed'", failed);
    }

    private static String reason(CompletableFuture<Void> confirm) {
        if (!confirm.isDone()) {
            return "no broker confirm within the confirm timeout";
        }
        try {
            confirm.join();
            return "confirmed";
        } catch (CompletionException e) {
            Throwable cause = e.getCause();
            return cause instanceof PublishException p ? p.kind().name().toLowerCase() + ": " + p.getMessage()
                    : cause instanceof TimeoutException ? "timeout" : String.valueOf(cause);
        }
    }

    private Reply unavailable(String message, ArrayNode failed) {
        metrics.gateRequest("unavailable");
        ObjectNode body = new HttpError(503, "unavailable", message).body();
        if (failed != null) {
            body.set("failed", failed);
        }
        return new Reply(503, body);
    }

    private static Map<FunctionDescription, Integer> countPerFunction(List<EventValidator.ValidEvent> events) {
        Map<FunctionDescription, Integer> counts = new LinkedHashMap<>();
        for (EventValidator.ValidEvent e : events) {
            counts.merge(e.function(), 1, Integer::sum);
        }
        return counts;
    }

    private static String outcome(int status) {
        return switch (status) {
            case 401 -> "unauthorized";
            case 403 -> "forbidden";
            case 408 -> "timeout";
            case 413 -> "too-large";
            case 415 -> "unsupported";
            case 429 -> "throttled";
            case 503 -> "unavailable";
            default -> "invalid";
        };
    }
}
