package dev.eventline.gate;

import java.time.Duration;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;

/**
 * Ends an HTTP/1.x connection whose request was answered before its body was read (RFC 9112 section 9.6): the
 * answer goes out with {@code Connection: close}, then what still arrives of the body is discarded, never kept,
 * up to a limit in bytes and {@link #TIME}, and the connection closes. Closing at once would make the operating
 * system reset the connection over the unread bytes, and a client still sending would never read the answer.
 * The limit is {@link #STRANGER_BYTES} unless the route raised it for a caller it knows
 * ({@link #DISCARD_LIMIT}); a body announced larger than the limit is not waited for.
 */
final class LingeringClose {

    /** Routing-context key: how many bytes of an unread body may be discarded before the connection closes. */
    static final String DISCARD_LIMIT = "eventline.http.discard-limit";
    /** What a caller without a key may make the server discard: an ordinary event or two. */
    static final long STRANGER_BYTES = 64 * 1024;
    /** Longest a refused request's body is waited for. */
    static final Duration TIME = Duration.ofSeconds(10);

    private LingeringClose() {
    }

    /** @return whether the request announces a body that has not been read to its end */
    static boolean unreadBody(HttpServerRequest request) {
        if (request.isEnded()) {
            return false;
        }
        String length = request.getHeader(HttpHeaders.CONTENT_LENGTH);
        return request.getHeader(HttpHeaders.TRANSFER_ENCODING) != null || (length != null && !length.equals("0"));
    }

    /** Before the answer is sent: close the connection once it is out, after discarding what the limit allows. */
    static void prepare(RoutingContext ctx) {
        Long raised = ctx.get(DISCARD_LIMIT);
        long limit = raised == null ? STRANGER_BYTES : raised;
        HttpServerRequest request = ctx.request();
        ctx.response().putHeader(HttpHeaders.CONNECTION, HttpHeaders.CLOSE);
        ctx.addEndHandler(sent -> {
            if (sent.succeeded()) {
                discard(ctx.vertx(), request, announced(request) > limit ? 0 : limit);
            }
        });
    }

    private static long announced(HttpServerRequest request) {
        try {
            String length = request.getHeader(HttpHeaders.CONTENT_LENGTH);
            return length == null ? 0 : Long.parseLong(length.trim());
        } catch (NumberFormatException e) {
            return Long.MAX_VALUE;
        }
    }

    private static void discard(Vertx vertx, HttpServerRequest request, long limit) {
        HttpConnection connection = request.connection();
        if (limit <= 0 || request.isEnded()) {
            connection.close();
            return;
        }
        long[] left = { limit };
        long timer = vertx.setTimer(TIME.toMillis(), t -> connection.close());
        request.exceptionHandler(e -> vertx.cancelTimer(timer));
        request.endHandler(v -> {
            vertx.cancelTimer(timer);
            connection.close();
        });
        request.handler(data -> {
            left[0] -= data.length();
            if (left[0] < 0) {
                vertx.cancelTimer(timer);
                connection.close();
            }
        });
        request.resume();
    }
}
