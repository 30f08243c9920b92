package dev.eventline.gate;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * Hostile bodies, many at once, against a running gate; prints what came back. Run the gate with a small heap
 * and watch it stay up (no {@code OutOfMemoryError} in its log), e.g.
 * <pre>
 * EVENTLINE_GATE_OPEN=true java -Xmx256m -jar target/quarkus-app/quarkus-run.jar
 * java src/test/java/dev/eventline/gate/MemoryProbe.java http://localhost:8080/events 32
 * </pre>
 * Bodies: 1.3 million empty events in one 4 MB batch (answered {@code 413} at the 1001st), one event whose
 * data is 85,000 empty objects (just under {@code max-event-bytes}), and 1000 events of 4 KB (a 4 MB batch
 * that is valid). Needs nothing but the JDK.
 */
public final class MemoryProbe {

    private MemoryProbe() {
    }

    public static void main(String[] args) throws Exception {
        URI gate = URI.create(args.length > 0 ? args[0] : "http://localhost:8080/events");
        int concurrent = args.length > 1 ? Integer.parseInt(args[1]) : 16;
        Map<String, String> bodies = Map.of("1.3M empty events", "[" + "{},".repeat(1_300_000) + "{}]",
                "one event of 85k objects", event(0, "[" + "{},".repeat(85_000) + "{}]"),
                "1000 events of 4 KB", batchOf(1000, "\"" + "x".repeat(4000) + "\""));
        HttpClient http = HttpClient.newHttpClient();
        for (Map.Entry<String, String> body : bodies.entrySet()) {
            long started = System.nanoTime();
            List<CompletableFuture<HttpResponse<Void>>> answers = new ArrayList<>();
            for (int i = 0; i < concurrent; i++) {
                answers.add(http.sendAsync(HttpRequest.newBuilder(gate)
                        .header("Content-Type", "application/cloudevents-batch+json")
                        .POST(HttpRequest.BodyPublishers.ofString(body.getValue())).build(),
                        HttpResponse.BodyHandlers.discarding()));
            }
            Map<String, Integer> statuses = new TreeMap<>();
            for (CompletableFuture<HttpResponse<Void>> a : answers) {
                String status = a.handle((r, e) -> e == null ? String.valueOf(r.statusCode()) : "error").join();
                statuses.merge(status, 1, Integer::sum);
            }
            System.out.printf("%-26s %7d bytes x %d at once: %s in %d ms%n", body.getKey(), body.getValue().length(),
                    concurrent, statuses, (System.nanoTime() - started) / 1_000_000);
        }
    }

    private static String batchOf(int events, String data) {
        StringBuilder batch = new StringBuilder("[");
        for (int i = 0; i < events; i++) {
            String one = event(i, data);
            batch.append(i == 0 ? "" : ",").append(one, 1, one.length() - 1);
        }
        return batch.append("]").toString();
    }

    private static String event(int i, String data) {
        return "[{\"specversion\":\"1.0\",\"id\":\"probe-" + i + "-" + System.nanoTime() + "\",\"source\":\"/probe\","
                + "\"type\":\"order.created\",\"subject\":\"probe-" + i + "\",\"data\":{\"orderId\":\"probe-" + i
                + "\",\"version\":1,\"pad\":" + data + "}}]";
    }
}
