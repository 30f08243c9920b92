package dev.eventline.client;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * A real HTTP server between the client and the real gate: forwards each request and its answer unchanged and
 * records both (the event ids, the gate's status, {@code Retry-After} and body, when each arrived and was
 * answered). It can leave the first requests unanswered, as a gate that does not answer in time.
 */
final class RecordingProxy implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** One request and the gate's answer to it ({@code status} -1: not forwarded, never answered). */
    static final class Exchange {
        final long arrivedNanos = System.nanoTime();
        final List<String> ids;
        volatile int status = -1;
        volatile String retryAfter;
        volatile String body;
        volatile long answeredNanos = Long.MAX_VALUE;

        Exchange(List<String> ids) {
            this.ids = ids;
        }

        boolean hasFailedList() {
            try {
                return body != null && JSON.readTree(body).path("failed").isArray();
            } catch (IOException e) {
                return false;
            }
        }
    }

    private final HttpServer server;
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private final URI gate;
    private final List<Exchange> exchanges = new CopyOnWriteArrayList<>();
    private final AtomicInteger unanswered;
    private final CountDownLatch closed = new CountDownLatch(1);

    /**
     * @param port       where to listen (0: any free port)
     * @param unanswered how many of the first requests get no answer (until the client gives up)
     */
    RecordingProxy(URI gate, int port, int unanswered) throws IOException {
        this.gate = gate;
        this.unanswered = new AtomicInteger(unanswered);
        this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 50);
        server.setExecutor(threads);
        server.createContext("/", this::handle);
        server.start();
    }

    URI uri() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + gate.getPath());
    }

    List<Exchange> exchanges() {
        return List.copyOf(exchanges);
    }

    private void handle(HttpExchange x) throws IOException {
        byte[] body;
        try (InputStream in = x.getRequestBody()) {
            body = in.readAllBytes();
        }
        Exchange e = new Exchange(ids(body));
        exchanges.add(e);
        try {
            if (unanswered.getAndDecrement() > 0) {
                closed.await(30, TimeUnit.SECONDS); // the client's request timeout fires meanwhile
                return;
            }
            forward(x, body, e);
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        } finally {
            x.close();
        }
    }

    private void forward(HttpExchange x, byte[] body, Exchange e) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(gate).timeout(Duration.ofSeconds(60))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        for (String h : List.of("Content-Type", "Authorization")) {
            String v = x.getRequestHeaders().getFirst(h);
            if (v != null) {
                request.header(h, v);
            }
        }
        HttpResponse<byte[]> r = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
        e.status = r.statusCode();
        e.body = new String(r.body(), StandardCharsets.UTF_8);
        e.retryAfter = r.headers().firstValue("Retry-After").orElse(null);
        r.headers().firstValue("Content-Type").ifPresent(v -> x.getResponseHeaders().set("Content-Type", v));
        if (e.retryAfter != null) {
            x.getResponseHeaders().set("Retry-After", e.retryAfter);
        }
        e.answeredNanos = System.nanoTime();
        x.sendResponseHeaders(r.statusCode(), r.body().length == 0 ? -1 : r.body().length);
        x.getResponseBody().write(r.body());
    }

    private static List<String> ids(byte[] body) {
        List<String> ids = new ArrayList<>();
        try {
            for (JsonNode event : JSON.readTree(body)) {
                ids.add(event.path("id").asText());
            }
        } catch (IOException e) {
            ids.add("<unreadable body>");
        }
        return ids;
    }

    @Override
    public void close() {
        closed.countDown();
        server.stop(0);
        threads.shutdownNow();
    }
}
