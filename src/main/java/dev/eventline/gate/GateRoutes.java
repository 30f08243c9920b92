package dev.eventline.gate;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.eventline.config.EventlineConfig;
import dev.eventline.metrics.PipelineMetrics;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

/**
 * {@code POST /events}. A plain Vert.x route rather than a Funqy HTTP function: the gate must read the
 * {@code ce-*} headers of binary mode, choose by Content-Type, and answer 202/400/413/415/429/503 with
 * {@code Retry-After}, none of which Funqy's HTTP binding exposes; and Funqy allows one HTTP binding per
 * application, which the functions' Knative CloudEvents binding takes.
 */
@ApplicationScoped
public class GateRoutes {

    private static final Logger LOG = Logger.getLogger(GateRoutes.class);

    @Inject
    Gate gate;

    @Inject
    EventlineConfig config;

    @Inject
    PipelineMetrics metrics;

    void register(@Observes Router router) {
        if (!config.gate().enabled()) {
            LOG.info("gate disabled (eventline.gate.enabled=false): POST /events is not served");
            return;
        }
        router.post("/events").order(-100)
                .handler(BodyHandler.create(false).setBodyLimit(config.gate().maxRequestBytes()))
                .blockingHandler(this::handle, false)
                .failureHandler(this::failure);
    }

    private void handle(RoutingContext ctx) {
        byte[] body = ctx.body().buffer() == null ? new byte[0] : ctx.body().buffer().getBytes();
        if (body.length > config.gate().maxRequestBytes()) {
            tooLarge(ctx); // the application-wide body handler read it before ours could limit it
            return;
        }
        gate.accept(ctx.request().getHeader("Content-Type"), ctx.request().headers(), body)
                .whenComplete((reply, error) -> {
                    if (error != null) {
                        LOG.error("gate failed unexpectedly", error);
                        send(ctx, 500, new GateError(500, "internal", "unexpected error; nothing was accepted",
                                null, null).body());
                    } else {
                        if (reply.retryAfterSeconds() != null) {
                            ctx.response().putHeader("Retry-After", String.valueOf(reply.retryAfterSeconds()));
                        }
                        send(ctx, reply.status(), reply.body());
                    }
                });
    }

    private void failure(RoutingContext ctx) {
        if (ctx.statusCode() == 413) {
            tooLarge(ctx);
            return;
        }
        LOG.error("gate request failed", ctx.failure());
        int status = ctx.statusCode() > 0 ? ctx.statusCode() : 500;
        send(ctx, status, new GateError(status, "internal", "request failed; nothing was accepted", null, null).body());
    }

    private void tooLarge(RoutingContext ctx) {
        metrics.gateRequest("too-large");
        send(ctx, 413, new GateError(413, "request-too-large", "the request body exceeds "
                + config.gate().maxRequestBytes() + " bytes (eventline.gate.max-request-bytes)", null, null).body());
    }

    private static void send(RoutingContext ctx, int status, ObjectNode body) {
        if (ctx.response().ended()) {
            return;
        }
        ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json")
                .end(Buffer.buffer(body.toString()));
    }
}
