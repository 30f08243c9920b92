package dev.eventline.gate;

import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.eventline.http.HttpAnswer;

import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.ext.web.RoutingContext;

/**
 * Writes the JSON answers of the gate's routes (through {@link HttpAnswer}, as every route). An answer given before the request's body was read (a refusal at
 * the door) ends an HTTP/1.x connection with a {@link LingeringClose}: the rest of the body is never kept.
 * (HTTP/2 flow control stops a stream's sender by itself when nobody reads.)
 */
final class HttpAnswers {

    private HttpAnswers() {
    }

    static void send(RoutingContext ctx, Gate.Reply reply) {
        if (reply.retryAfterSeconds() != null) {
            ctx.response().putHeader("Retry-After", String.valueOf(reply.retryAfterSeconds()));
        }
        send(ctx, reply.status(), reply.body());
    }

    static void send(RoutingContext ctx, int status, ObjectNode body) {
        if (ctx.response().ended()) {
            return;
        }
        HttpServerRequest request = ctx.request();
        if (LingeringClose.unreadBody(request)) {
            if (request.version() != HttpVersion.HTTP_2) {
                LingeringClose.prepare(ctx);
            }
        } else if (!request.isEnded()) {
            request.resume(); // only the end of an empty body is pending: let the connection go on
        }
        HttpAnswer.send(ctx, status, body);
    }
}
