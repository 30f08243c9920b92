package dev.eventline.client;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Posts one batch ({@code application/cloudevents-batch+json}) and reads the answer. A request that gets no
 * complete answer within the request timeout (headers and body) is an {@link Answer#none} answer, as are a
 * refused or closed connection. The producer key is sent as {@code Authorization: Bearer} and is removed from
 * every reason built from an answer (also when the gate echoes it JSON-escaped), so it cannot reach a log or
 * the rejection handler.
 */
final class GateTransport {

    static final String BATCH = "application/cloudevents-batch+json";
    /** Answer bodies are read up to this many bytes. */
    static final int MAX_ANSWER_BYTES = 1 << 20;

    private final HttpClient http;
    private final URI gate;
    private final String apiKey;
    private final Duration requestTimeout;

    GateTransport(URI gate, String apiKey, Duration connectTimeout, Duration requestTimeout) {
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(connectTimeout)
                .followRedirects(HttpClient.Redirect.NEVER).build();
        this.gate = gate;
        this.apiKey = apiKey;
        this.requestTimeout = requestTimeout;
    }

    /** Sends the events as one batch; waits at most the request timeout for the whole answer. */
    Answer post(List<Pending> events) throws InterruptedException {
        CompletableFuture<HttpResponse<byte[]>> call;
        try {
            call = http.sendAsync(request(events), BoundedBody.handler(MAX_ANSWER_BYTES));
        } catch (RuntimeException e) {
            return Answer.none("the request could not be sent: " + e.getClass().getSimpleName(), this::redact);
        }
        try {
            return answer(call.get(requestTimeout.toNanos(), TimeUnit.NANOSECONDS));
        } catch (TimeoutException e) {
            call.cancel(true);
            return Answer.none("no complete answer within the request timeout (" + requestTimeout.toMillis() + " ms)",
                    this::redact);
        } catch (ExecutionException | CancellationException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            return Answer.none(cause.getClass().getSimpleName() + " " + cause.getMessage(), this::redact);
        } catch (InterruptedException e) {
            call.cancel(true);
            throw e;
        }
    }

    private HttpRequest request(List<Pending> events) {
        HttpRequest.Builder request = HttpRequest.newBuilder(gate).timeout(requestTimeout)
                .header("Content-Type", BATCH).POST(HttpRequest.BodyPublishers.ofByteArray(body(events)));
        if (apiKey != null) {
            request.header("Authorization", "Bearer " + apiKey);
        }
        return request.build();
    }

    private Answer answer(HttpResponse<byte[]> r) {
        String text = new String(r.body(), java.nio.charset.StandardCharsets.UTF_8);
        JsonNode json;
        try {
            json = Pending.JSON.readTree(text);
        } catch (IOException e) {
            json = null; // not the gate's JSON: the status alone decides
        }
        return new Answer(r.statusCode(), json, text,
                RetryAfter.parse(r.headers().firstValue("Retry-After").orElse(null), Instant.now()), this::redact);
    }

    private static byte[] body(List<Pending> events) {
        int size = 2 + events.size();
        for (Pending p : events) {
            size += p.json().length;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(size);
        out.write('[');
        for (int i = 0; i < events.size(); i++) {
            if (i > 0) {
                out.write(',');
            }
            out.writeBytes(events.get(i).json());
        }
        out.write(']');
        return out.toByteArray();
    }

    private String redact(String text) {
        return apiKey == null || apiKey.isEmpty() || text == null ? text : text.replace(apiKey, "<producer key>");
    }
}
