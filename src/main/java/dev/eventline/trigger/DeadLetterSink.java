package dev.eventline.trigger;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.rabbitmq.client.AMQP;

import dev.eventline.broker.ConfirmingPublisher;
import dev.eventline.broker.EventCodec;
import dev.eventline.broker.OutgoingMessage;
import dev.eventline.broker.Publishing;
import dev.eventline.config.EventlineConfig;
import dev.eventline.config.FunctionDescription;
import dev.eventline.fault.DeadLetterFormat;
import dev.eventline.http.EventReader;
import dev.eventline.http.HttpAnswer;
import dev.eventline.http.HttpError;
import dev.eventline.metrics.PipelineMetrics;
import dev.eventline.topology.Names;
import io.vertx.ext.web.RoutingContext;

/**
 * {@code POST /dead-letters}: a dead-letter sink for Knative delivery that has one (a Trigger or Subscription; a
 * RabbitmqSource has none). It stores the event, with the delivery's error Knative attached (the
 * {@code knativeerror*} extensions), in its function's dead-letter queue, where the admin endpoints list, replay
 * and purge it like any other. Answers: {@code 202} once the broker confirmed it; {@code 400} for a batch, an
 * event that is not one of the service's, a malformed extension or an attribute AMQP cannot carry
 * ({@link EventAttributes}), checked before anything is published; {@code 413} above
 * {@code eventline.gate.max-event-bytes}; {@code 503} when the broker refuses it or has not confirmed it within
 * {@code eventline.trigger.confirm-timeout}, so the sender keeps it and tries again (a late confirm may then leave
 * two copies in the dead-letter queue, never none).
 */
@ApplicationScoped
class DeadLetterSink {

    private static final Logger LOG = Logger.getLogger(DeadLetterSink.class);
    private static final int MAX_ERROR = 1000;
    /** Base64 characters decoded at most from {@code knativeerrordata}: enough for {@value #MAX_ERROR} bytes. */
    private static final int MAX_ERROR_DATA = 4 * (MAX_ERROR + 2) / 3;
    private static final int MAX_DESTINATION = 1024;
    private static final Pattern STATUS = Pattern.compile("[1-5][0-9]{2}");
    private static final List<String> KNATIVE_ERROR = List.of("knativeerrordest", "knativeerrorcode", "knativeerrordata");

    @Inject
    EventlineConfig config;
    @Inject
    Names names;
    @Inject
    Publishing publishing;
    @Inject
    EventCodec codec;
    @Inject
    ObjectMapper json;
    @Inject
    PipelineMetrics metrics;

    /** @param served the service's functions by event type */
    void handle(RoutingContext ctx, Map<String, FunctionDescription> served) {
        ObjectNode event;
        FunctionDescription fn;
        DeadLetterFormat.History history;
        try {
            event = read(ctx);
            fn = owner(event, served);
            history = history(event, fn);
        } catch (HttpError e) {
            HttpAnswer.refuse(ctx, e);
            return;
        }
        publish(ctx, fn, event, history);
    }

    private ObjectNode read(RoutingContext ctx) {
        String contentType = ctx.request().getHeader("Content-Type");
        if (EventReader.BATCH.equals(EventReader.mediaType(contentType))) {
            throw new HttpError(400, "batch-not-supported", "a dead-letter sink takes one CloudEvent per request");
        }
        byte[] body = HttpTrigger.bytes(ctx);
        if (body.length > config.gate().maxEventBytes()) {
            throw new HttpError(413, "event-too-large", "the dead letter is " + body.length + " bytes; the limit is "
                    + config.gate().maxEventBytes() + " (eventline.gate.max-event-bytes)");
        }
        try {
            ObjectNode event = new EventReader(json).read(contentType, ctx.request().headers(), body).get(0);
            String problem = EventAttributes.problem(event);
            if (problem != null) {
                throw HttpError.invalid(problem + "; the dead letter was not stored", null, null);
            }
            return event;
        } catch (HttpError e) {
            throw HttpError.invalid(e.getMessage(), null, null);
        }
    }

    private static FunctionDescription owner(ObjectNode event, Map<String, FunctionDescription> served) {
        String type = FunqyCall.text(event, "type");
        FunctionDescription fn = type == null ? null : served.get(type);
        if (fn == null && served.values().stream().distinct().count() == 1) {
            fn = served.values().iterator().next(); // a service of one function: its dead letters are its own
        }
        String id = FunqyCall.text(event, "id");
        if (fn == null || id == null || id.isEmpty()) {
            throw HttpError.invalid("a dead letter needs an id and a type this service handles: "
                    + served.keySet().stream().sorted().toList(), null, null);
        }
        return fn;
    }

    /** The failure history from Knative's extensions, which leave the event; checked, since a sender sets them. */
    private static DeadLetterFormat.History history(ObjectNode event, FunctionDescription fn) {
        String code = FunqyCall.text(event, "knativeerrorcode");
        String destination = FunqyCall.text(event, "knativeerrordest");
        String data = FunqyCall.text(event, "knativeerrordata");
        if (code != null && !STATUS.matcher(code).matches()) {
            throw HttpError.invalid("extension knativeerrorcode must be an HTTP status code (100-599)", null, null);
        }
        if (destination != null && (destination.length() > MAX_DESTINATION || destination.chars().anyMatch(c -> c < 0x20))) {
            throw HttpError.invalid("extension knativeerrordest must be a URL of at most " + MAX_DESTINATION
                    + " characters", null, null);
        }
        KNATIVE_ERROR.forEach(event::remove);
        Instant now = Instant.now();
        return new DeadLetterFormat.History("knative-delivery-failed" + (code == null ? "" : " (HTTP " + code + ")"),
                fn.retry().maxAttempts(), destination == null ? "knative" : "knative:" + destination, now, now, null,
                data == null ? null : decoded(data));
    }

    /** @return the delivery's error text: Base64 as Knative sends it (else as given), at most MAX_ERROR characters */
    private static String decoded(String base64) {
        String head = base64.length() > MAX_ERROR_DATA ? base64.substring(0, MAX_ERROR_DATA & ~3) : base64;
        String text;
        try {
            text = new String(Base64.getDecoder().decode(head), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            text = base64;
        }
        return text.length() > MAX_ERROR ? text.substring(0, MAX_ERROR) : text;
    }

    private void publish(RoutingContext ctx, FunctionDescription fn, ObjectNode event,
            DeadLetterFormat.History history) {
        String key = HttpTrigger.partitionKey(event);
        AMQP.BasicProperties plain = codec.properties(FunqyCall.text(event, "id"), FunqyCall.text(event, "type"), key,
                System.currentTimeMillis());
        AMQP.BasicProperties properties = plain.builder().headers(DeadLetterFormat.withHistory(plain, history)).build();
        OutgoingMessage message = new OutgoingMessage(names.deadLetterExchange(fn.name()), key, properties,
                codec.encode(event));
        CompletableFuture<Void> confirm;
        try {
            ConfirmingPublisher publisher = publishing.publisher().orElseThrow(
                    () -> new IllegalStateException("the broker is not reachable"));
            confirm = publisher.publish(List.of(message), config.trigger().confirmTimeout()).get(0);
        } catch (RuntimeException e) { // nothing went out: unavailable, blocked, saturated, or refused by the client
            notStored(ctx, fn, e);
            return;
        }
        long timeout = config.trigger().confirmTimeout().toMillis();
        // a copy: the timeout ends this request's wait, not the publisher's own bookkeeping of the confirm
        confirm.copy().orTimeout(timeout, TimeUnit.MILLISECONDS).whenComplete((ok, error) -> {
            Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
            if (cause == null) {
                metrics.processed(fn.name(), "dead-lettered");
                HttpAnswer.done(ctx, 202, "dead-lettered", "stored in " + names.deadLetterQueue(fn.name()));
            } else {
                notStored(ctx, fn, cause instanceof TimeoutException ? new TimeoutException("no confirm from the broker "
                        + "within " + timeout + " ms (eventline.trigger.confirm-timeout)") : cause);
            }
        });
    }

    private void notStored(RoutingContext ctx, FunctionDescription fn, Throwable error) {
        String why = error.getMessage() == null ? error.getClass().getSimpleName() : error.getMessage();
        LOG.warnf("%s: a dead letter was not stored: %s", fn.name(), why);
        HttpAnswer.refuse(ctx, new HttpError(503, "not-stored", "the broker did not take the dead letter (" + why
                + "); try again later. The dead-letter queue " + names.deadLetterQueue(fn.name()) + " may be full", null,
                null));
    }
}
