package dev.eventline.gate;

import java.time.Duration;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.ext.web.RoutingContext;
import dev.eventline.http.HttpError;

/**
 * What {@code POST /events} checks before its body is read, and how the body is read. It is the first handler
 * of all ({@link GateRoutes}): Quarkus' own body handler, which reads every request's body up to
 * {@code quarkus.http.limits.max-body-size} (10 MiB) because Funqy's binding needs one, never sees the request.
 * <ol>
 * <li>the producer key: a request without a valid one gets {@code 401} and its body is never read;</li>
 * <li>{@code Content-Length} over {@code eventline.gate.max-request-bytes}: {@code 413} at once, same;</li>
 * <li>the body is read up to that limit; a chunked body that passes it gets {@code 413} there, and the rest is
 * not kept; a body that has not arrived {@link #BODY_DEADLINE} after the headers gets {@code 408}.</li>
 * </ol>
 * Every refusal ends the connection (see {@link LingeringClose}).
 */
final class GateDoor {

    /** How long a request's body may take to arrive, after its headers (slow senders hold memory). */
    static final Duration BODY_DEADLINE = Duration.ofSeconds(30);

    private final Gate gate;
    private final int maxRequestBytes;
    private final BodyBudget budget;
    private final Next next;

    /** What runs once the body is in: the producer's name and the body. */
    interface Next {
        void accept(RoutingContext ctx, String producer, Buffer body);
    }

    GateDoor(Gate gate, int maxRequestBytes, BodyBudget budget, Next next) {
        this.gate = gate;
        this.maxRequestBytes = maxRequestBytes;
        this.budget = budget;
        this.next = next;
    }

    /** The first handler of {@code POST /events}, on the event loop, before anything read the body. */
    void enter(RoutingContext ctx) {
        String producer;
        Reservation held = new Reservation();
        try {
            producer = gate.authenticate(ctx.request().getHeader(HttpHeaders.AUTHORIZATION));
            // a producer learns why its body is refused: the server may discard up to twice what it accepts
            ctx.put(LingeringClose.DISCARD_LIMIT, 2L * maxRequestBytes);
            long declared = declaredLength(ctx.request());
            ctx.addEndHandler(done -> held.release());
            held.cover(Math.max(0, declared));
        } catch (HttpError e) {
            refuse(ctx, e);
            return;
        }
        read(ctx, producer, held);
    }

    private void read(RoutingContext ctx, String producer, Reservation held) {
        HttpServerRequest request = ctx.request();
        Buffer body = Buffer.buffer();
        long deadline = ctx.vertx().setTimer(BODY_DEADLINE.toMillis(), t -> tooSlow(ctx));
        request.exceptionHandler(e -> ctx.vertx().cancelTimer(deadline)); // the caller left: nothing to answer
        request.handler(data -> {
            try {
                if (body.length() + data.length() > maxRequestBytes) {
                    throw tooLarge();
                }
                held.cover(body.length() + data.length());
                body.appendBuffer(data);
            } catch (HttpError e) {
                ctx.vertx().cancelTimer(deadline);
                refuse(ctx, e); // replaces this handler: the rest is discarded
            }
        });
        request.endHandler(v -> {
            ctx.vertx().cancelTimer(deadline);
            if (!ctx.response().ended()) {
                next.accept(ctx, producer, body);
            }
        });
        if ("100-continue".equalsIgnoreCase(request.getHeader(HttpHeaders.EXPECT))
                && request.version() != HttpVersion.HTTP_1_0) {
            ctx.response().writeContinue();
        }
        request.resume();
    }

    private HttpError tooLarge() {
        return new HttpError(413, "request-too-large", "the request body exceeds " + maxRequestBytes
                + " bytes (eventline.gate.max-request-bytes); nothing was accepted", null, null);
    }

    /** @return the announced length (within the limit), or -1 for a chunked body */
    private long declaredLength(HttpServerRequest request) {
        String length = request.getHeader(HttpHeaders.CONTENT_LENGTH);
        long declared;
        try {
            declared = length == null ? -1 : Long.parseLong(length.trim());
        } catch (NumberFormatException e) {
            throw HttpError.invalid("Content-Length is not a number", null, null);
        }
        if (declared > maxRequestBytes) {
            throw tooLarge();
        }
        return declared;
    }

    /** What one request holds of the {@link BodyBudget}. */
    private final class Reservation {
        private long bytes;

        /** @throws HttpError 503 when the budget cannot cover a body of this size now */
        synchronized void cover(long bodyBytes) {
            long more = budget.cost(bodyBytes) - bytes;
            if (more <= 0) {
                return;
            }
            if (!budget.tryReserve(more)) {
                throw HttpError.unavailable("the gate is reading as many request bodies as its memory allows; "
                        + "nothing was accepted, try again shortly", 1);
            }
            bytes += more;
        }

        synchronized void release() {
            budget.release(bytes);
            bytes = 0;
        }
    }

    private void tooSlow(RoutingContext ctx) {
        if (!ctx.response().ended()) {
            ctx.put(LingeringClose.DISCARD_LIMIT, 0L); // a slow sender is not waited for any longer
            refuse(ctx, new HttpError(408, "request-timeout", "the request body did not arrive within "
                    + BODY_DEADLINE.toSeconds() + " s; nothing was accepted", null, null));
        }
    }

    private void refuse(RoutingContext ctx, HttpError e) {
        HttpAnswers.send(ctx, gate.refused(e));
    }
}
