package dev.eventline.http;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A request an HTTP route (the gate, the HTTP trigger, its dead-letter sink, admin) refuses, with the HTTP status
 * and a JSON body that names the problem: {@code {"error": code, "message": text, "index": n, "field": name}}
 * ({@code index}: position in a batch), the one error shape of every route ({@link HttpAnswer} writes it).
 */
public final class HttpError extends RuntimeException {

    private final int status;
    private final String code;
    private final Integer index;
    private final String field;
    private final Integer retryAfterSeconds;

    public HttpError(int status, String code, String message) {
        this(status, code, message, null, null, null);
    }

    public HttpError(int status, String code, String message, Integer index, String field) {
        this(status, code, message, index, field, null);
    }

    private HttpError(int status, String code, String message, Integer index, String field,
            Integer retryAfterSeconds) {
        super(message);
        this.status = status;
        this.code = code;
        this.index = index;
        this.field = field;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    /** {@code 429} with a {@code Retry-After} of this many seconds. */
    public static HttpError throttled(String message, int retryAfterSeconds) {
        return new HttpError(429, "throttled", message, null, null, retryAfterSeconds);
    }

    /** {@code 503} with a {@code Retry-After} of this many seconds. */
    public static HttpError unavailable(String message, int retryAfterSeconds) {
        return new HttpError(503, "unavailable", message, null, null, retryAfterSeconds);
    }

    /** @return seconds for the {@code Retry-After} header, or null */
    public Integer retryAfterSeconds() {
        return retryAfterSeconds;
    }

    public static HttpError invalid(String message, Integer index, String field) {
        return new HttpError(400, "invalid-event", message, index, field);
    }

    public int status() {
        return status;
    }

    public ObjectNode body() {
        ObjectNode body = JsonNodeFactory.instance.objectNode();
        body.put("error", code);
        body.put("message", getMessage());
        if (index != null) {
            body.put("index", index);
        }
        if (field != null) {
            body.put("field", field);
        }
        if (retryAfterSeconds != null) {
            body.put("retryAfterSeconds", retryAfterSeconds);
        }
        return body;
    }
}
