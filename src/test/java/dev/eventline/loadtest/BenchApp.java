package dev.eventline.loadtest;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The packaged application, started as a user would (java -jar), with the benchmark function {@code bench}
 * described in a directory of its own: P partitions, default limits.
 */
final class BenchApp implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    final URI base;
    final Process process;
    final long startedNanos;
    private final HttpClient http = HttpClient.newHttpClient();
    /** The scenario's queue prefix, deleted from the broker when this app closes; null when another app owns it. */
    private final String ownedPrefix;

    private BenchApp(URI base, Process process, long startedNanos, String ownedPrefix) {
        this.base = base;
        this.process = process;
        this.startedNanos = startedNanos;
        this.ownedPrefix = ownedPrefix;
    }

    /** Writes the description and starts the application; does not wait for it. */
    static BenchApp start(String amqpUrl, String name, int partitions) throws IOException {
        return start(amqpUrl, name, partitions, List.of());
    }

    /** @param jvmArgs extra JVM options, e.g. a flight recording */
    static BenchApp start(String amqpUrl, String name, int partitions, List<String> jvmArgs) throws IOException {
        return start(amqpUrl, name, partitions, jvmArgs, "");
    }

    /**
     * One process with the gate, its own queue prefix and one delivery thread per partition.
     *
     * @param description further lines of the function's description, e.g. {@code "prefetch: 1\n"}
     */
    static BenchApp start(String amqpUrl, String name, int partitions, List<String> jvmArgs, String description)
            throws IOException {
        return start(amqpUrl, name, partitions, jvmArgs, "bench" + Long.toString(System.nanoTime(), 36) + "-", true,
                partitions, description);
    }

    /**
     * @param prefix broker names' prefix: instances of one scenario share it
     * @param gate   whether this process serves the gate (further instances run the function only)
     */
    static BenchApp start(String amqpUrl, String name, int partitions, List<String> jvmArgs, String prefix,
            boolean gate, int concurrency) throws IOException {
        return start(amqpUrl, name, partitions, jvmArgs, prefix, gate, concurrency, "");
    }

    /** @param description further lines of the function's description, e.g. {@code "prefetch: 1\n"} */
    static BenchApp start(String amqpUrl, String name, int partitions, List<String> jvmArgs, String prefix,
            boolean gate, int concurrency, String description) throws IOException {
        Path dir = Path.of("target/bench/functions-" + name, "bench");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("function.yaml"), "name: bench\neventTypes: [bench.noop, bench.io]\n"
                + "partitions: " + partitions + "\nconcurrency: " + concurrency + "\n" + description);
        List<String> command = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin",
                "java").toString()));
        command.add("-Dquarkus.log.category.\"dev.eventline.trigger\".level=INFO"); // ownership changes in the log
        command.addAll(jvmArgs);
        command.addAll(List.of("-jar", "target/quarkus-app/quarkus-run.jar"));
        return launch(command, amqpUrl, name, dir.getParent(), prefix, gate, gate, Map.of());
    }

    /**
     * Starts the application as {@code command} (the JVM jar, or the native executable), with the descriptions in
     * {@code functions}; does not wait for it.
     *
     * @param owns whether closing it deletes the broker names under {@code prefix}
     * @param env  further environment, e.g. {@code EVENTLINE_FUNCTIONS_ENABLED}
     */
    static BenchApp launch(List<String> command, String amqpUrl, String name, Path functions, String prefix,
            boolean gate, boolean owns, Map<String, String> env) throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path log = Path.of("target/bench/app-" + name + ".log");
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("RABBITMQ_URL", amqpUrl);
        pb.environment().put("QUARKUS_HTTP_PORT", String.valueOf(port));
        pb.environment().put("EVENTLINE_TOPOLOGY_PREFIX", prefix);
        pb.environment().put("EVENTLINE_GATE_ENABLED", String.valueOf(gate));
        pb.environment().put("EVENTLINE_INSTANCE_ID", name);
        pb.environment().put("EVENTLINE_FUNCTIONS_DIR", functions.toString());
        pb.environment().put("EVENTLINE_GATE_OPEN", "true");
        pb.environment().put("QUARKUS_LOG_LEVEL", "WARN");
        // the start-up's split (Lifecycle: "connected in ...") stays in the log
        pb.environment().put("QUARKUS_LOG_CATEGORY__DEV_EVENTLINE_APP__LEVEL", "INFO");
        pb.environment().putAll(env);
        long t0 = System.nanoTime();
        Process p = pb.start();
        Runtime.getRuntime().addShutdownHook(new Thread(p::destroy));
        return new BenchApp(URI.create("http://127.0.0.1:" + port), p, t0, owns ? prefix : null);
    }

    BenchApp ready() {
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(50)).until(() -> {
            if (!process.isAlive()) {
                throw new IllegalStateException("the application exited; see target/bench/app-*.log");
            }
            try {
                return http.send(HttpRequest.newBuilder(base.resolve("/q/health/ready")).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
            } catch (IOException notYet) {
                return false;
            }
        });
        return this;
    }

    URI events() {
        return base.resolve("/events");
    }

    /** The benchmark function's verifier: processed, violations, duplicates. */
    JsonNode report() throws Exception {
        return JSON.readTree(http.send(HttpRequest.newBuilder(base.resolve("/benchReport")).build(),
                HttpResponse.BodyHandlers.ofString()).body());
    }

    /**
     * A quantile of one of the application's latency histograms over its whole run, summed over functions, in
     * milliseconds; NaN when it counted nothing.
     */
    double quantileMillis(String histogram, double q) throws Exception {
        String scrape = http.send(HttpRequest.newBuilder(base.resolve("/q/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        return 1000 * Histograms.quantile(Histograms.parse(scrape), histogram, "", q);
    }

    /** One value from /q/metrics, e.g. {@code eventline_function_depth_events{function="bench"}}; NaN if absent. */
    double metric(String name, String labels) throws Exception {
        String scrape = http.send(HttpRequest.newBuilder(base.resolve("/q/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "\\{([^}]*)\\} ([0-9.eE+-]+|NaN)$")
                .matcher(scrape);
        while (m.find()) {
            if (m.group(1).contains(labels)) {
                return Double.parseDouble(m.group(2));
            }
        }
        return Double.NaN;
    }

    /** Resident set size of the application process, MiB (Linux /proc). */
    double rssMiB() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(process.pid()), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
                }
            }
        } catch (IOException e) {
            return Double.NaN;
        }
        return Double.NaN;
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        process.waitFor();
        if (ownedPrefix != null) {
            dev.eventline.testsupport.TestBroker.get().deleteByPrefix(ownedPrefix); // nothing left behind
        }
    }
}
