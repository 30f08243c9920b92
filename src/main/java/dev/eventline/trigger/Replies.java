package dev.eventline.trigger;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.vertx.ext.web.RoutingContext;

/** The HTTP trigger's answers: {@code {"status": .., "outcome"|"error": .., "message": ..}}, once per request. */
final class Replies {

    private Replies() {
    }

    static void send(RoutingContext ctx, int status, String code, String message) {
        if (ctx.response().ended()) {
            return;
        }
        ObjectNode body = JsonNodeFactory.instance.objectNode().put("status", status)
                .put(status < 400 ? "outcome" : "error", code).put("message", message);
        ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(body.toString());
    }
}
