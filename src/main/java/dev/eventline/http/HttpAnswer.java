package dev.eventline.http;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;

/**
 * Writes the JSON answers of every HTTP route (gate, HTTP trigger, dead-letter sink, admin), once per request.
 * A refusal is always an {@link HttpError}, so every error body has one shape: {@code {"error": code,
 * "message": text}}, plus {@code index}, {@code field} and {@code retryAfterSeconds} where they apply.
 */
public final class HttpAnswer {

    private HttpAnswer() {
    }

    /** The refusal: its status, its {@code Retry-After} when it has one, its body. */
    public static void refuse(RoutingContext ctx, HttpError e) {
        if (ctx.response().ended()) {
            return;
        }
        if (e.retryAfterSeconds() != null) {
            ctx.response().putHeader("Retry-After", String.valueOf(e.retryAfterSeconds()));
        }
        send(ctx, e.status(), e.body());
    }

    /** A success that names what happened: {@code {"outcome": code, "message": text}}. */
    public static void done(RoutingContext ctx, int status, String outcome, String message) {
        send(ctx, status, JsonNodeFactory.instance.objectNode().put("outcome", outcome).put("message", message));
    }

    public static void send(RoutingContext ctx, int status, ObjectNode body) {
        if (!ctx.response().ended()) {
            ctx.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
                    .end(Buffer.buffer(body.toString()));
        }
    }
}
