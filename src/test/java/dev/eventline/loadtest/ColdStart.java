package dev.eventline.loadtest;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.ObjectMapper;

import dev.eventline.testsupport.GateClient;

/**
 * A cold start as scale-from-zero pays it: a function's process (orders, one partition, no gate, the topology
 * verified, not declared: as its KEDA and Knative manifests run it) started while an event already waits in its
 * partition. From the process's start: ready ({@code /q/health/ready} answers 200), that event processed, and the
 * resident set once it has rested. A gate process of its own (no functions) put the event there, and declared the
 * topology once. Polled every 5 ms, so the figures are at most that late.
 */
final class ColdStart implements AutoCloseable {

    /** One start: milliseconds from the process's start to ready and to the first event processed; RSS, MiB. */
    record Start(double readyMs, double firstEventMs, double restRssMiB) {
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration LIMIT = Duration.ofSeconds(120);
    private static final Duration REST = Duration.ofSeconds(3);
    private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

    private final String amqpUrl;
    private final Path functions;
    private final String prefix = "cold" + Long.toString(System.nanoTime(), 36) + "-";
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final BenchApp gate;
    private final GateClient producer;
    private int runs;

    ColdStart(String amqpUrl) throws IOException {
        this.amqpUrl = amqpUrl;
        this.functions = Path.of("target/bench/functions-cold");
        Path dir = functions.resolve("orders");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("function.yaml"), "name: orders\neventTypes: [order.created, order.item-added, "
                + "order.paid, order.shipped]\npartitions: 1\nconcurrency: 1\n");
        // the gate: declares the topology, takes the events; runs no function (owns the prefix: deletes it at close)
        this.gate = BenchApp.launch(jvm(), amqpUrl, "cold-gate", functions, prefix, true, true,
                Map.of("EVENTLINE_FUNCTIONS_ENABLED", "none")).ready();
        this.producer = new GateClient(gate.events());
    }

    /** The native executable native-build.sh built last (target/*-runner), if any. */
    static Optional<Path> nativeExecutable() throws IOException {
        try (Stream<Path> files = Files.list(Path.of("target"))) {
            return files.filter(p -> p.getFileName().toString().endsWith("-runner") && Files.isExecutable(p))
                    .max(Comparator.comparing(p -> p.toFile().lastModified()));
        }
    }

    /** What the executable is: the unofficial toolchain's leaves its JDK libraries beside it (native-build.sh). */
    static String describe(Path executable) {
        boolean toolchain = Files.exists(executable.resolveSibling("lib").resolve("libjvm.so"));
        long built = executable.toFile().lastModified();
        boolean older;
        try (Stream<Path> sources = Files.walk(Path.of("src/main"))) {
            older = sources.anyMatch(p -> p.toFile().lastModified() > built);
        } catch (IOException e) {
            older = false;
        }
        return executable + (toolchain ? " (built with the unofficial toolchain, for verification: a GraalVM or Mandrel "
                + "build may differ)" : "") + (older ? " (older than src/main: rebuild it to measure this code)" : "");
    }

    static List<String> jvm() {
        return List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
                "target/quarkus-app/quarkus-run.jar");
    }

    /** Puts an event in the partition, starts the function's process, measures, stops it. */
    Start measure(List<String> command, String label) throws Exception {
        String name = "cold-" + label + "-" + (++runs);
        String id = name + "-" + System.nanoTime();
        producer.deliver(List.of(GateClient.event(id, "order.created", id, Map.of("orderId", id, "version", 1))), 5);
        try (BenchApp app = BenchApp.launch(command, amqpUrl, name, functions, prefix, false, false,
                Map.of("EVENTLINE_FUNCTIONS_ENABLED", "orders", "EVENTLINE_TOPOLOGY_DECLARE", "false"))) {
            long t0 = app.startedNanos;
            await(() -> status(app.base.resolve("/q/health/ready")) == 200, app);
            double ready = (System.nanoTime() - t0) / 1e6;
            await(() -> applied(app) >= 1, app);
            double first = (System.nanoTime() - t0) / 1e6;
            LockSupport.parkNanos(REST.toNanos()); // the measurement itself: RSS after a quiet spell
            return new Start(ready, first, app.rssMiB());
        }
    }

    @Override
    public void close() throws InterruptedException {
        gate.close(); // and the topology with it
    }

    private interface Check {
        boolean done() throws Exception;
    }

    private static void await(Check check, BenchApp app) throws Exception {
        long end = System.nanoTime() + LIMIT.toNanos();
        while (!check.done()) {
            if (!app.process.isAlive()) {
                throw new IllegalStateException("the application exited; see target/bench/app-cold-*.log");
            }
            if (System.nanoTime() > end) {
                throw new IllegalStateException("no answer within " + LIMIT);
            }
            LockSupport.parkNanos(POLL_NANOS);
        }
    }

    private int status(URI uri) {
        try {
            return http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(2)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return 0; // not listening yet
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 0;
        }
    }

    private long applied(BenchApp app) throws Exception {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(app.base.resolve("/orderReport"))
                    .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? JSON.readTree(r.body()).path("applied").asLong() : 0;
        } catch (IOException notListening) {
            return 0;
        }
    }

    /** The median of the starts' figures, and their range. */
    static String summary(List<Start> starts, java.util.function.ToDoubleFunction<Start> figure, String unit) {
        List<Double> values = new ArrayList<>(starts.stream().map(figure::applyAsDouble).sorted().toList());
        return String.format(java.util.Locale.ROOT, "%.0f %s (%.0f-%.0f)", values.get(values.size() / 2), unit,
                values.get(0), values.get(values.size() - 1));
    }

    static double median(List<Start> starts, java.util.function.ToDoubleFunction<Start> figure) {
        List<Double> values = starts.stream().map(figure::applyAsDouble).sorted().toList();
        return values.get(values.size() / 2);
    }
}
