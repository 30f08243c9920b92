package dev.eventline.gate;

import java.util.concurrent.CompletableFuture;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import org.jboss.logging.Logger;

import dev.eventline.config.EventlineConfig;
import dev.eventline.http.HttpError;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * {@code POST /events}. A plain Vert.x route rather than a Funqy HTTP function: the gate must read the
 * {@code ce-*} headers of binary mode, choose by Content-Type, and answer 202/400/413/415/429/503 with
 * {@code Retry-After}, none of which Funqy's HTTP binding exposes; and Funqy allows one HTTP binding per
 * application, which the functions' Knative CloudEvents binding takes.
 * <p>
 * The route comes first of all ({@code order} {@link Integer#MIN_VALUE}) and ends every request itself: the
 * {@link GateDoor} checks the key and the size and reads the body, then the gate runs on a worker thread. A
 * caller's mistake is logged at DEBUG, without its content; only the gate's own failures at ERROR.
 */
@ApplicationScoped
public class GateRoutes {

    private static final Logger LOG = Logger.getLogger(GateRoutes.class);

    @Inject
    Gate gate;

    @Inject
    EventlineConfig config;

    void register(@Observes Router router) {
        if (!config.gate().enabled()) {
            LOG.info("gate disabled (eventline.gate.enabled=false): POST /events is not served");
            return;
        }
        GateDoor door = new GateDoor(gate, config.gate().maxRequestBytes(),
                BodyBudget.ofHeap(config.gate().maxEventBytes()), this::accept);
        router.post("/events").order(Integer.MIN_VALUE).handler(door::enter).failureHandler(this::failure);
    }

    private void accept(RoutingContext ctx, String producer, Buffer body) {
        ctx.vertx().<CompletableFuture<Gate.Reply>>executeBlocking(() -> gate.accept(producer,
                ctx.request().getHeader("Content-Type"), ctx.request().headers(), body.getBytes()), false)
                .onFailure(error -> failed(ctx, error))
                .onSuccess(reply -> reply.whenComplete((r, error) -> {
                    if (error != null) {
                        failed(ctx, error);
                    } else {
                        if (r.status() >= 400 && r.status() < 500) {
                            LOG.debugf("gate refused a request: %d %s", r.status(), r.body().path("error").asText());
                        }
                        HttpAnswers.send(ctx, r);
                    }
                }));
    }

    private void failed(RoutingContext ctx, Throwable error) {
        LOG.error("gate failed unexpectedly", error);
        HttpAnswers.send(ctx, 500, new HttpError(500, "internal", "unexpected error; nothing was accepted", null, null)
                .body());
    }

    /** A handler threw (a bug, never a caller's mistake: those are answered where they are found). */
    private void failure(RoutingContext ctx) {
        if (ctx.response().ended()) {
            LOG.debugf("gate request failed after its answer: %s", String.valueOf(ctx.failure()));
            return;
        }
        failed(ctx, ctx.failure() != null ? ctx.failure() : new IllegalStateException("status " + ctx.statusCode()));
    }
}
