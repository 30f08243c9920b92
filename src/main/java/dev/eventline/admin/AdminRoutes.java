package dev.eventline.admin;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.eventline.broker.Broker;
import dev.eventline.config.EventlineConfig;
import dev.eventline.config.FunctionCatalog;
import dev.eventline.config.FunctionDescription;
import dev.eventline.http.HttpAnswer;
import dev.eventline.http.HttpError;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

/**
 * Dead-letter administration, for operators and {@code bin/eventline-admin}:
 * <ul>
 * <li>{@code GET /admin/functions/{fn}/dead-letters?type=&key=&error=&since=&until=&id=&offset=0&limit=50}: a
 * page of dead-lettered events with their reasons ({@code since} and {@code until}: ISO-8601 instants, compared with
 * the last failure);</li>
 * <li>{@code GET /admin/functions/{fn}/dead-letters/event?id=}: one of them whole, data and headers;</li>
 * <li>{@code POST /admin/functions/{fn}/dead-letters/replay} with a selection
 * {@code {"ids":[..], "type":.., "key":.., "error":.., "all":true, "ratePerSecond":.., "max":..}};</li>
 * <li>{@code POST /admin/functions/{fn}/dead-letters/purge} with a selection and {@code "confirm": "<fn>"} (in
 * parked mode with {@code afterDeadLetter: hold}, each purged event's key is released first);</li>
 * <li>{@code GET /admin/functions/{fn}/held-keys}: parked mode's held keys, per partition, with why and since when.</li>
 * </ul>
 * Every request needs {@code Authorization: Bearer <eventline.admin.token>}. The routes exist only when
 * {@code eventline.admin.enabled=true}, and then start-up requires a token: they are never served open.
 */
@ApplicationScoped
public class AdminRoutes {

    private static final Logger LOG = Logger.getLogger(AdminRoutes.class);
    static final int MIN_TOKEN = 16;
    private static final String BASE = "/admin/functions/:fn/dead-letters";
    private static final String FUNCTION = "/admin/functions/:fn";

    @Inject
    EventlineConfig config;
    @Inject
    FunctionCatalog catalog;
    @Inject
    DeadLetterAdmin admin;
    @Inject
    PartitionAdmin partitions;
    @Inject
    ObjectMapper json;

    /**
     * @return the token to require
     * @throws IllegalStateException when admin is enabled without a usable token (start-up fails)
     */
    public static Optional<byte[]> requiredToken(EventlineConfig.Admin settings) {
        if (!settings.enabled()) {
            return Optional.empty();
        }
        String token = settings.token().map(String::trim).orElse("");
        if (token.length() < MIN_TOKEN) {
            throw new IllegalStateException("eventline.admin.enabled=true but eventline.admin.token (env "
                    + "EVENTLINE_ADMIN_TOKEN) is " + (token.isEmpty() ? "not set" : "shorter than " + MIN_TOKEN
                            + " characters")
                    + ": refusing to expose the dead-letter admin endpoints without a credential. Set a token, or "
                    + "set eventline.admin.enabled=false.");
        }
        return Optional.of(token.getBytes(StandardCharsets.UTF_8));
    }

    void register(@Observes Router router) {
        Optional<byte[]> token = requiredToken(config.admin());
        if (token.isEmpty()) {
            LOG.info("admin endpoints disabled (eventline.admin.enabled=false)");
            return;
        }
        router.route("/admin/*").order(-100).handler(ctx -> authorize(ctx, token.get()));
        router.get(BASE).order(-99).blockingHandler(this::list, false);
        router.get(BASE + "/event").order(-99).blockingHandler(this::event, false);
        router.post(BASE + "/replay").order(-99).handler(BodyHandler.create(false).setBodyLimit(1 << 20))
                .blockingHandler(this::replay, false);
        router.post(BASE + "/purge").order(-99).handler(BodyHandler.create(false).setBodyLimit(1 << 20))
                .blockingHandler(this::purge, false);
        router.post(FUNCTION + "/intake").order(-99).handler(BodyHandler.create(false).setBodyLimit(1 << 16))
                .blockingHandler(this::intake, false);
        router.get(FUNCTION + "/partitions").order(-99).blockingHandler(this::partitions, false);
        router.get(FUNCTION + "/held-keys").order(-99).blockingHandler(this::heldKeys, false);
        router.post(FUNCTION + "/repartition").order(-99).handler(BodyHandler.create(false).setBodyLimit(1 << 16))
                .blockingHandler(this::repartition, false);
        LOG.info("admin endpoints enabled under /admin/functions/{fn}/... (bearer token required)");
    }

    private void authorize(RoutingContext ctx, byte[] token) {
        String header = ctx.request().getHeader("Authorization");
        byte[] given = header != null && header.startsWith("Bearer ")
                ? header.substring(7).trim().getBytes(StandardCharsets.UTF_8)
                : new byte[0];
        if (!MessageDigest.isEqual(given, token)) {
            ctx.response().putHeader("WWW-Authenticate", "Bearer realm=\"eventline-admin\"");
            HttpAnswer.refuse(ctx, new HttpError(401, "unauthorized", header == null ? "missing Authorization: Bearer <token>"
                    : "the admin token does not match"));
            return;
        }
        ctx.next();
    }

    /** One admin request for one function: its answer, or an {@link HttpError} (see {@link #badRequest}). */
    private interface Action {
        ObjectNode answer(FunctionDescription fn) throws Exception;
    }

    /** Finds the function (404), runs the action, and maps its failures to 400 and 503. */
    private void serve(RoutingContext ctx, Action action) {
        Optional<FunctionDescription> fn = function(ctx);
        if (fn.isEmpty()) {
            return;
        }
        try {
            HttpAnswer.send(ctx, 200, action.answer(fn.get()));
        } catch (HttpError e) {
            HttpAnswer.refuse(ctx, e);
        } catch (Exception e) {
            LOG.warnf("admin request failed: %s", Broker.reason(e));
            HttpAnswer.refuse(ctx, new HttpError(503, "unavailable", "the broker could not be used: " + Broker.reason(e)));
        }
    }

    private void list(RoutingContext ctx) {
        serve(ctx, fn -> {
            Selection selection = selection(ctx.queryParam("id"), param(ctx, "type"), param(ctx, "key"),
                    param(ctx, "error"), param(ctx, "since"), param(ctx, "until"), false);
            int offset = intParam(ctx, "offset", 0, 0, Integer.MAX_VALUE);
            int limit = intParam(ctx, "limit", 50, 1, 1000);
            DeadLetterAdmin.Page page = admin.list(fn, selection, offset, limit);
            ObjectNode body = json.createObjectNode().put("function", fn.name()).put("depth", page.depth())
                    .put("deadLetterMax", fn.limits().deadLetterMax()).put("scanned", page.scanned())
                    .put("matched", page.matched()).put("more", page.more()).put("offset", offset)
                    .put("limit", limit);
            body.set("events", json.valueToTree(page.events()));
            return body;
        });
    }

    private void event(RoutingContext ctx) {
        serve(ctx, fn -> {
            String id = param(ctx, "id");
            if (id == null) {
                throw badRequest("'id' is required: the event's id");
            }
            DeadLetterAdmin.Detail detail = admin.event(fn, id).orElseThrow(() -> new HttpError(404, "not-found",
                    "no event with id '" + id + "' in the dead-letter queue of " + fn.name()));
            return json.createObjectNode().put("function", fn.name()).setAll((ObjectNode) json.valueToTree(detail));
        });
    }

    private void replay(RoutingContext ctx) {
        serve(ctx, fn -> {
            JsonNode request = body(ctx);
            Selection selection = selection(request);
            if (partitions.paused(fn)) {
                throw conflict("intake of " + fn.name() + " is paused (the partition count may be changing): "
                        + "replay after resuming");
            }
            int rate = bounded(request, "ratePerSecond", config.admin().replayRate(), 1, config.admin().replayRate());
            int max = bounded(request, "max", config.admin().maxBatch(), 1, config.admin().maxBatch());
            return result(fn, "replayed", admin.replay(fn, selection, rate, max));
        });
    }

    private void purge(RoutingContext ctx) {
        serve(ctx, fn -> {
            JsonNode request = body(ctx);
            Selection selection = selection(request);
            if (!fn.name().equals(request.path("confirm").asText(null))) {
                throw badRequest("purging deletes events for good: add \"confirm\": \"" + fn.name()
                        + "\" to the request");
            }
            int max = bounded(request, "max", config.admin().maxBatch(), 1, config.admin().maxBatch());
            return result(fn, "purged", admin.purge(fn, selection, max));
        });
    }

    private void intake(RoutingContext ctx) {
        serve(ctx, fn -> {
            JsonNode request = body(ctx);
            if (!request.path("paused").isBoolean()) {
                throw badRequest("expected {\"paused\": true} or {\"paused\": false}");
            }
            partitions.pause(fn, request.get("paused").asBoolean());
            return json.createObjectNode().put("function", fn.name()).put("paused", request.get("paused").asBoolean());
        });
    }

    /** Parked mode: which keys are held, why and since when, per partition. */
    private void heldKeys(RoutingContext ctx) {
        serve(ctx, fn -> {
            ObjectNode body = json.createObjectNode().put("function", fn.name())
                    .put("mode", fn.retry().mode().name().toLowerCase(java.util.Locale.ROOT))
                    .put("afterDeadLetter", fn.retry().holdAfterDeadLetter() ? "hold" : "proceed");
            com.fasterxml.jackson.databind.node.ArrayNode held = body.putArray("held");
            if (fn.parked()) {
                for (DeadLetterAdmin.HeldKeys p : admin.held(fn)) {
                    for (ObjectNode k : p.keys()) {
                        ObjectNode entry = held.addObject().put("partition", p.partition());
                        entry.setAll(k);
                        entry.put("since", java.time.Instant.ofEpochMilli(k.path("since").asLong()).toString());
                    }
                }
            }
            body.put("count", held.size());
            return body;
        });
    }

    private void partitions(RoutingContext ctx) {
        serve(ctx, fn -> {
            PartitionAdmin.State state = partitions.state(fn);
            ObjectNode body = json.createObjectNode().put("function", fn.name())
                    .put("described", fn.partitions()).put("onBroker", state.partitions().size())
                    .put("paused", state.paused()).put("pausedHere", state.pausedHere())
                    .put("inHand", state.inHand()).put("drained", state.drained());
            body.set("queues", json.valueToTree(state.partitions()));
            return body;
        });
    }

    private void repartition(RoutingContext ctx) {
        serve(ctx, fn -> {
            JsonNode request = body(ctx);
            if (!fn.name().equals(request.path("confirm").asText(null))) {
                throw badRequest("repartitioning replaces the partition queues: add \"confirm\": \"" + fn.name()
                        + "\" to the request");
            }
            int count = bounded(request, "partitions", -1, 1, dev.eventline.config.DescriptionParser.MAX_PARTITIONS);
            if (count < 0) {
                throw badRequest("'partitions' is required");
            }
            try {
                List<String> differences = partitions.repartition(fn, count);
                ObjectNode body = json.createObjectNode().put("function", fn.name()).put("partitions", count);
                body.set("differences", json.valueToTree(differences));
                return body;
            } catch (IllegalStateException e) {
                throw conflict(e.getMessage());
            }
        });
    }

    private ObjectNode result(FunctionDescription fn, String verb, DeadLetterAdmin.Result r) {
        ObjectNode body = json.createObjectNode().put("function", fn.name()).put(verb, r.done())
                .put("matched", r.matched()).put("more", r.more());
        body.set("skipped", json.valueToTree(r.skipped()));
        return body;
    }

    private Optional<FunctionDescription> function(RoutingContext ctx) {
        String name = ctx.pathParam("fn");
        Optional<FunctionDescription> fn = catalog.byName(name);
        if (fn.isEmpty()) {
            HttpAnswer.refuse(ctx, new HttpError(404, "unknown-function", "no function '" + name + "'; known: "
                    + catalog.all().stream().map(FunctionDescription::name).toList()));
        }
        return fn;
    }

    private JsonNode body(RoutingContext ctx) {
        try {
            JsonNode node = ctx.body().buffer() == null ? null : json.readTree(ctx.body().buffer().getBytes());
            if (node == null || !node.isObject()) {
                throw badRequest("expected a JSON object with a selection: ids, type, key, error or all");
            }
            return node;
        } catch (java.io.IOException e) {
            throw badRequest("the body is not JSON: " + e.getMessage());
        }
    }

    private static Selection selection(JsonNode request) {
        List<String> ids = new java.util.ArrayList<>();
        if (request.has("ids")) {
            if (!request.get("ids").isArray()) {
                throw badRequest("'ids' must be a list of event ids");
            }
            request.get("ids").forEach(id -> ids.add(id.asText()));
        }
        Selection s = selection(ids, text(request, "type"), text(request, "key"), text(request, "error"),
                text(request, "since"), text(request, "until"), request.path("all").asBoolean(false));
        if (s.isEmpty()) {
            throw badRequest("say which events: \"ids\", \"type\", \"key\", \"error\", \"since\", \"until\", "
                    + "or \"all\": true");
        }
        return s;
    }

    private static Selection selection(List<String> ids, String type, String key, String error, String since,
            String until, boolean all) {
        try {
            return new Selection(Set.copyOf(new LinkedHashSet<>(ids)), type, key, error,
                    Selection.instant("since", since), Selection.instant("until", until), all);
        } catch (IllegalArgumentException e) {
            throw badRequest(e.getMessage());
        }
    }

    private static String text(JsonNode request, String field) {
        JsonNode v = request.get(field);
        return v == null || v.isNull() || v.asText().isEmpty() ? null : v.asText();
    }

    private static int bounded(JsonNode request, String field, int fallback, int min, int max) {
        JsonNode v = request.get(field);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.canConvertToInt() || v.asInt() < min || v.asInt() > max) {
            throw badRequest("'" + field + "' must be a whole number in " + min + ".." + max);
        }
        return v.asInt();
    }

    private static String param(RoutingContext ctx, String name) {
        List<String> values = ctx.queryParam(name);
        return values.isEmpty() || values.get(0).isEmpty() ? null : values.get(0);
    }

    private static int intParam(RoutingContext ctx, String name, int fallback, int min, int max) {
        String v = param(ctx, name);
        try {
            int n = v == null ? fallback : Integer.parseInt(v);
            if (n < min || n > max) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw badRequest("'" + name + "' must be a whole number in " + min + ".." + max);
        }
    }

    private static HttpError badRequest(String message) {
        return new HttpError(400, "invalid-request", message);
    }

    private static HttpError conflict(String message) {
        return new HttpError(409, "conflict", message);
    }

    @PreDestroy
    void close() {
        admin.close();
    }
}
