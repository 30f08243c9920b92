package dev.eventline.trigger;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.eventline.cloudevents.PartitionKey;
import dev.eventline.config.EventlineConfig.TriggerSettings.Mode;
import dev.eventline.config.EventlineConfig;
import dev.eventline.config.FunctionCatalog;
import dev.eventline.config.FunctionDescription;
import dev.eventline.fault.Dedup;
import dev.eventline.fault.RetryPolicy;
import dev.eventline.http.EventReader;
import dev.eventline.http.HttpAnswer;
import dev.eventline.http.HttpError;
import dev.eventline.metrics.PipelineMetrics;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * The HTTP trigger ({@code eventline.trigger.mode=http}): on Knative a RabbitMQ source consumes the partition
 * queues and posts each event to the function's service as a CloudEvent; Funqy's Knative binding routes it by
 * {@code ce-type} to the {@code @Funq} method. This class screens the request before Funqy sees it and turns
 * the outcome into the status the source acts on:
 * <ul>
 * <li>2xx: done (also for an id this process has already applied: a redelivery is not applied twice);</li>
 * <li>4xx, never 404/408/409/429 (the codes Knative retries): the event can never succeed (not a CloudEvent,
 * a type this service does not serve, data that does not fit the handler, a non-retryable failure); the source
 * rejects it without retrying, and the partition queue dead-letters it into {@code <fn>.dlq};</li>
 * <li>5xx: try again with the source's backoff (the handler failed, or the same event is still running here).</li>
 * </ul>
 * {@code POST /dead-letters} is a dead-letter sink ({@link DeadLetterSink}). Every path of the trigger and of
 * Funqy requires the trigger's token ({@link TriggerCredential}, checked before the body is read), and the
 * attributes that become AMQP fields or keys are bounded ({@link EventAttributes}, 400 beyond).
 * With {@code eventline.trigger.mode=queue} CloudEvents posted to {@code /} get {@code 404}: there the events
 * reach the functions through their partitions, and a direct call would bypass ordering.
 */
@ApplicationScoped
public class HttpTrigger {

    private static final Logger LOG = Logger.getLogger(HttpTrigger.class);
    private static final String FUNCTION = "eventline.http.function";
    private static final int MAX_ERROR = 1000;
    private static final Duration ABANDONED_POLL = Duration.ofMillis(500);
    private static final Duration ABANDONED_MIN_WAIT = Duration.ofMinutes(1);

    @Inject
    EventlineConfig config;
    @Inject
    FunctionCatalog catalog;
    @Inject
    ObjectMapper json;
    @Inject
    PipelineMetrics metrics;
    @Inject
    Trigger trigger; // its @Funq lookup by event type, the queue trigger's
    @Inject
    DeadLetterSink sink;

    private EventReader reader;
    private Map<String, FunctionDescription> served = Map.of();
    private final Map<String, Dedup> dedup = new ConcurrentHashMap<>();
    private final Set<String> running = ConcurrentHashMap.newKeySet();

    void register(@Observes Router router) {
        reader = new EventReader(json);
        if (config.trigger().mode() == Mode.HTTP) {
            TriggerCredential credential = TriggerCredential.of(config); // fails start-up without a usable token
            List<FunctionDescription> functions = catalog.select(config.functions().enabled());
            served = functions.stream().flatMap(fn -> fn.eventTypes().stream().map(t -> Map.entry(t, fn)))
                    .collect(Collectors.toUnmodifiableMap(Map.Entry::getKey, Map.Entry::getValue));
            functions.forEach(fn -> dedup.put(fn.name(), new Dedup(fn.dedup())));
            // ahead of everything, Quarkus' body handler included: a caller without the token is answered unread
            router.route().order(Integer.MIN_VALUE).handler(credential);
            router.post("/dead-letters").order(-95).blockingHandler(ctx -> sink.handle(ctx, served), false);
            LOG.infof("HTTP trigger: CloudEvents posted to / are answered for %s; dead-letter sink POST /dead-letters; %s",
                    functions.stream().map(FunctionDescription::name).toList(),
                    credential.isOpen() ? "OPEN, no token required" : "token required (eventline.trigger.token)");
        }
        router.route("/*").order(-90).handler(this::screen).failureHandler(this::failure);
    }

    /** Checks a CloudEvent before Funqy dispatches it; anything else passes on untouched. */
    private void screen(RoutingContext ctx) {
        String contentType = ctx.request().getHeader("Content-Type");
        String mediaType = EventReader.mediaType(contentType);
        boolean cloudEvent = ctx.request().getHeader("ce-id") != null || ctx.request().getHeader("ce-specversion") != null
                || (mediaType != null && mediaType.startsWith("application/cloudevents"));
        if (!cloudEvent) {
            ctx.next();
            return;
        }
        if (config.trigger().mode() != Mode.HTTP) {
            reply(ctx, 404, "http-trigger-off", "this instance runs the queue trigger (eventline.trigger.mode=queue): "
                    + "producers post events to the gate, POST /events");
            return;
        }
        ObjectNode event = read(ctx, contentType, mediaType);
        FunctionDescription fn = event == null ? null : owner(ctx, event);
        if (fn == null) {
            return; // answered
        }
        if (EventReader.STRUCTURED.equals(mediaType) && event.has("data") && !event.has("datacontenttype")) {
            // datacontenttype is optional (JSON by default); Funqy's binding insists on it
            event.put("datacontenttype", "application/json");
            ctx.setBody(Buffer.buffer(event.toString()));
        }
        dispatch(ctx, fn, FunqyCall.text(event, "source"), FunqyCall.text(event, "id"));
    }

    /** @return the one CloudEvent of the request, or null when it was refused (answered) */
    private ObjectNode read(RoutingContext ctx, String contentType, String mediaType) {
        if (EventReader.BATCH.equals(mediaType)) {
            reply(ctx, 400, "batch-not-supported", "the HTTP trigger takes one CloudEvent per request "
                    + "(binary or structured mode), as a RabbitMQ source sends them");
            return null;
        }
        byte[] body = bytes(ctx);
        if (body.length > config.gate().maxEventBytes()) {
            reply(ctx, 413, "event-too-large", "the event is " + body.length + " bytes; the limit is "
                    + config.gate().maxEventBytes() + " (eventline.gate.max-event-bytes)");
            return null;
        }
        try {
            return reader.read(contentType, ctx.request().headers(), body).get(0);
        } catch (HttpError e) {
            reply(ctx, e.status() == 413 ? 413 : 400, "invalid-event", e.getMessage());
            return null;
        }
    }

    /** @return the function that serves a valid event, or null when the event was refused (answered) */
    private FunctionDescription owner(RoutingContext ctx, ObjectNode event) {
        String type = FunqyCall.text(event, "type");
        if (FunqyCall.text(event, "id") == null || FunqyCall.text(event, "source") == null || type == null
                || !"1.0".equals(FunqyCall.text(event, "specversion"))) {
            reply(ctx, 400, "invalid-event", "a CloudEvent 1.0 needs specversion 1.0, id, source and type");
            return null;
        }
        String problem = EventAttributes.problem(event);
        if (problem != null) {
            reply(ctx, 400, "invalid-event", problem);
            return null;
        }
        FunctionDescription fn = served.get(type);
        if (fn == null) {
            reply(ctx, 400, "type-not-served", "event type '" + type + "' is not handled by this service; it serves "
                    + served.keySet().stream().sorted().toList() + " (eventline.functions.enabled)");
            return null;
        }
        try {
            // the same rule as the queue trigger's: data that does not fit the method's parameter never will
            trigger.invokers().forType(type).ifPresent(invoker -> new FunqyCall(invoker, event, json));
        } catch (RuntimeException e) { // data that does not fit, or an attribute (time) that cannot be read
            reply(ctx, 400, "invalid-data", e.getMessage());
            return null;
        }
        return fn;
    }

    /** Hands the event to Funqy, unless it is running here already (503) or was applied here (200). */
    private void dispatch(RoutingContext ctx, FunctionDescription fn, String source, String id) {
        String key = Dedup.key(source, id);
        // claim the event first, then ask whether it was applied: a redelivery racing the first call's end
        // either finds it claimed (503) or finds it recorded (200), never neither
        if (!running.add(key)) {
            reply(ctx, 503, "still-running", "event " + id + " is still running here; try again later");
            return;
        }
        if (dedup.get(fn.name()).seen(key)) {
            running.remove(key);
            metrics.duplicate(fn.name());
            reply(ctx, 200, "duplicate", "event " + id + " from " + source + " was already applied here; not applied again");
            return;
        }
        long started = System.nanoTime();
        AtomicBoolean answered = new AtomicBoolean();
        ctx.put(FUNCTION, fn);
        // the answer's head is about to be written (by Funqy or the failure handler), before the caller can read
        // it: record the outcome now, so that a redelivery sent on receipt finds it
        ctx.addHeadersEndHandler(v -> {
            if (answered.compareAndSet(false, true)) {
                finished(fn, key, ctx.response().getStatusCode(), started);
            }
        });
        ctx.addEndHandler(done -> {
            if (done.failed() && !answered.get()) {
                // the caller went away (Knative's timeoutSeconds) while the call runs on: it stays claimed until
                // its answer is written into the closed connection, or a generous deadline passes
                awaitAbandoned(ctx, fn, key, answered, started);
            }
        });
        ctx.next();
    }

    private void finished(FunctionDescription fn, String key, int status, long started) {
        metrics.handlerTime(fn.name(), Duration.ofNanos(System.nanoTime() - started));
        if (status < 300) {
            dedup.get(fn.name()).record(key); // before the claim goes: see screen
            metrics.processed(fn.name(), "success");
        } else if (status < 500) {
            metrics.processed(fn.name(), "rejected");
        } else {
            metrics.retried(fn.name());
        }
        running.remove(key);
    }

    private void awaitAbandoned(RoutingContext ctx, FunctionDescription fn, String key, AtomicBoolean answered,
            long started) {
        long deadline = started + Math.max(2 * fn.timeout().toNanos(), ABANDONED_MIN_WAIT.toNanos());
        LOG.warnf("%s: the caller left before %s was answered; a redelivery waits until the call ends", fn.name(), key);
        ctx.vertx().setPeriodic(ABANDONED_POLL.toMillis(), timer -> {
            if (answered.get()) {
                ctx.vertx().cancelTimer(timer);
            } else if (System.nanoTime() - deadline > 0 && answered.compareAndSet(false, true)) {
                ctx.vertx().cancelTimer(timer);
                running.remove(key);
                LOG.warnf("%s: the abandoned call of %s has not ended after %s; a redelivery may run it again",
                        fn.name(), key, Duration.ofNanos(System.nanoTime() - started));
            }
        });
    }

    /** Funqy (or the handler) failed: say whether trying again can help. */
    private void failure(RoutingContext ctx) {
        FunctionDescription fn = ctx.get(FUNCTION);
        if (fn == null || ctx.response().ended()) {
            ctx.next();
            return;
        }
        Throwable error = ctx.failure();
        if (error == null) {
            // Funqy's own answers: 400 data does not fit the parameter, 406 data not JSON, 404 no function
            int status = ctx.statusCode();
            if (status >= 500 || status < 0) {
                reply(ctx, 500, "handler-failed", "the function failed; try again");
            } else {
                reply(ctx, 400, "invalid-data", "the event cannot be handled by " + fn.name() + " (Funqy answered "
                        + status + ": the data does not fit the function's parameter or is not JSON)");
            }
            return;
        }
        if (RetryPolicy.of(fn).nonRetryable(error)) {
            reply(ctx, 422, "non-retryable", "the function refused the event for good: " + describe(error));
        } else {
            LOG.debugf(error, "%s failed; the source will retry", fn.name());
            reply(ctx, 500, "handler-failed", "the function failed, try again: " + describe(error));
        }
    }

    /** @return the event's partition key: {@code partitionkey}, else {@code subject}, else empty */
    static String partitionKey(ObjectNode event) {
        return PartitionKey.of(event).orElse("");
    }

    static byte[] bytes(RoutingContext ctx) {
        return ctx.body() == null || ctx.body().buffer() == null ? new byte[0] : ctx.body().buffer().getBytes();
    }

    private static String describe(Throwable error) {
        String message = error.getClass().getSimpleName() + ": " + error.getMessage();
        return message.length() > MAX_ERROR ? message.substring(0, MAX_ERROR) : message;
    }

    private static void reply(RoutingContext ctx, int status, String code, String message) {
        if (status < 400) {
            HttpAnswer.done(ctx, status, code, message);
        } else {
            HttpAnswer.refuse(ctx, new HttpError(status, code, message));
        }
    }
}
