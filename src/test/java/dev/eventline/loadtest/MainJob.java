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
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.awaitility.core.ConditionTimeoutException;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;

import dev.eventline.config.FunctionCatalog;
import dev.eventline.config.FunctionDescription;
import dev.eventline.testsupport.GateClient;
import dev.eventline.testsupport.OrderScenario;
import dev.eventline.testsupport.TestBroker;
import dev.eventline.topology.Names;

/**
 * The main job: starts the packaged application ({@code target/quarkus-app/quarkus-run.jar}) against a broker
 * (RABBITMQ_URL, else one it provisions), drives orders and notifications through the gate over HTTP, prints
 * progress every second, and ends with one JSON line: accepted, processed, deadLettered, lost,
 * orderingViolations, duplicates, throughput, latency. Exit status 1 when anything was lost or reordered.
 *
 * <p>Options: {@code --orders N} (default 2000), {@code --items N} (most items per order, 8),
 * {@code --recipients N} (500), {@code --notifications N} (per recipient, 12), {@code --producers N} (8),
 * {@code --batch N} (100), {@code --stall-seconds N} (give up after this long without progress, 120).
 */
public final class MainJob {

    /** The main job posts as a configured producer, as a real deployment requires (a per-run key). */
    private static final String PRODUCER_KEY = "main-job-" + java.util.UUID.randomUUID();

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern METRIC = Pattern.compile("^(\\w+)\\{([^}]*)\\}\\s+(\\S+)$");

    private final Map<String, Integer> options;
    private final HttpClient http = HttpClient.newHttpClient();
    private URI base;

    private MainJob(Map<String, Integer> options) {
        this.options = options;
    }

    public static void main(String[] args) throws Exception {
        Map<String, Integer> options = new HashMap<>(Map.of("orders", 2000, "items", 8, "recipients", 500,
                "notifications", 12, "producers", 8, "batch", 100, "stall-seconds", 120));
        for (int i = 0; i + 1 < args.length; i += 2) {
            String key = args[i].replaceFirst("^--", "");
            if (!options.containsKey(key)) {
                System.err.println("unknown option " + args[i] + "; known: " + options.keySet());
                System.exit(2);
            }
            options.put(key, Integer.parseInt(args[i + 1]));
        }
        int status;
        try {
            status = new MainJob(options).run();
        } catch (Exception e) {
            System.err.println("main job failed: " + e);
            e.printStackTrace();
            status = 2;
        }
        System.exit(status);
    }

    private int run() throws Exception {
        Path jar = Path.of("target/quarkus-app/quarkus-run.jar");
        if (!Files.exists(jar)) {
            throw new IllegalStateException(jar + " is missing: build with ./mvnw package (./mvnw -Pdemo verify does)");
        }
        TestBroker broker = TestBroker.get();
        log("broker: " + broker.description());
        String run = "demo" + Long.toString(System.currentTimeMillis(), 36);
        String prefix = run + "-";
        int port = freePort();
        base = URI.create("http://127.0.0.1:" + port);
        Path logFile = Path.of("target/demo/app.log");
        Files.createDirectories(logFile.getParent());
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Deventline.gate.producers.main-job.key=" + PRODUCER_KEY, "-jar", jar.toString())
                .redirectErrorStream(true).redirectOutput(logFile.toFile());
        pb.environment().put("RABBITMQ_URL", broker.amqpUrl());
        pb.environment().put("QUARKUS_HTTP_PORT", String.valueOf(port));
        pb.environment().put("EVENTLINE_TOPOLOGY_PREFIX", prefix);
        Process app = pb.start();
        Runtime.getRuntime().addShutdownHook(new Thread(app::destroy));
        log("application pid " + app.pid() + " on port " + port + ", log " + logFile + ", queue prefix " + prefix);
        try {
            awaitReady(app);
            return drive(broker, new Names(prefix), run);
        } finally {
            app.destroy();
            app.waitFor();
            log("deleted the run's " + broker.deleteByPrefix(prefix) + " queues and exchanges");
        }
    }

    private int drive(TestBroker broker, Names names, String run) throws Exception {
        OrderScenario orders = new OrderScenario(run, options.get("orders"), options.get("items"), 1);
        NotificationScenario notifications = new NotificationScenario(run, options.get("recipients"),
                options.get("notifications"), 2);
        long total = orders.totalEvents() + notifications.totalEvents();
        log(String.format(Locale.ROOT, "sending %d events: %d orders (%d events), %d recipients (%d events)", total,
                options.get("orders"), orders.totalEvents(), options.get("recipients"), notifications.totalEvents()));
        FunctionCatalog catalog = FunctionCatalog.fromDirectory(Path.of("functions"));
        AtomicLong notificationsSent = new AtomicLong();
        long start = System.nanoTime();
        URI gate = base.resolve("/events");
        CompletableFuture<Void> sendingOrders = CompletableFuture.runAsync(() -> {
            try {
                orders.send(gate, options.get("producers"), options.get("batch"), PRODUCER_KEY);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        CompletableFuture<Void> sendingNotifications = CompletableFuture.runAsync(() -> {
            GateClient client = new GateClient(gate, PRODUCER_KEY);
            for (var batch : notifications.batches(options.get("batch"))) {
                client.deliver(batch, 20);
                notificationsSent.addAndGet(batch.size());
            }
        });
        CompletableFuture<Void> sending = CompletableFuture.allOf(sendingOrders, sendingNotifications);
        try (Connection connection = broker.connectionFactory().newConnection("eventline-main-job")) {
            Channel channel = connection.createChannel();
            Progress progress = new Progress(channel, names, catalog, start, total, sending,
                    () -> orders.accepted() + notificationsSent.get());
            // one progress line a second until everything is processed, the senders failed, or nothing moves
            await().pollDelay(Duration.ofSeconds(1)).pollInterval(Duration.ofSeconds(1)).forever()
                    .until(progress::tick);
            long finished = System.nanoTime();
            sending.getNow(null); // a sender's failure ends the job here
            return summary(notifications, total, start, finished, deadLettered(channel, names, catalog));
        }
    }

    /** Prints one progress line per tick; says when the job is over. */
    private final class Progress {
        private final Channel channel;
        private final Names names;
        private final FunctionCatalog catalog;
        private final long start;
        private final long total;
        private final CompletableFuture<Void> sending;
        private final LongSupplier accepted;
        private long previousDone;
        private double previousSeconds;
        private long lastProgress = System.nanoTime();

        Progress(Channel channel, Names names, FunctionCatalog catalog, long start, long total,
                CompletableFuture<Void> sending, LongSupplier accepted) {
            this.channel = channel;
            this.names = names;
            this.catalog = catalog;
            this.start = start;
            this.total = total;
            this.sending = sending;
            this.accepted = accepted;
        }

        boolean tick() throws Exception {
            Map<String, Double> metrics = metrics();
            long done = handled(metrics);
            long deadLettered = deadLettered(channel, names, catalog);
            double seconds = (System.nanoTime() - start) / 1e9;
            log(String.format(Locale.ROOT,
                    "t=%5.1fs accepted %7d  processed %7d (%6.0f/s)  dead-lettered %d  queue depth %6d  lag %.2fs",
                    seconds, accepted.getAsLong(), done, (done - previousDone) / (seconds - previousSeconds),
                    deadLettered, depth(channel, names, catalog), lag(metrics)));
            if (done != previousDone) {
                lastProgress = System.nanoTime();
            }
            previousDone = done;
            previousSeconds = seconds;
            if (sending.isCompletedExceptionally()) {
                log("a producer failed; stopping");
                return true;
            }
            if (sending.isDone() && done + deadLettered >= total && applied() + deadLettered >= total) {
                return true;
            }
            if (System.nanoTime() - lastProgress > options.get("stall-seconds") * 1_000_000_000L) {
                log("no progress for " + options.get("stall-seconds") + " s; stopping");
                return true;
            }
            return false;
        }
    }

    private int summary(NotificationScenario notifications, long total, long start, long finished, long deadLettered)
            throws Exception {
        JsonNode o = get("/orderReport");
        JsonNode n = get("/notificationReport");
        Map<String, Double> metrics = metrics();
        long applied = applied();
        long violations = o.get("violations").asLong()
                + Math.abs(n.get("sent").asLong() - notifications.expectedSent)
                + Math.abs(n.get("suppressed").asLong() - notifications.expectedSuppressed);
        long lost = Math.max(0, total - applied - deadLettered);
        double seconds = (finished - start) / 1e9;
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("accepted", total);
        summary.put("processed", applied);
        summary.put("deadLettered", deadLettered);
        summary.put("lost", lost);
        summary.put("orderingViolations", violations);
        summary.put("duplicates", o.get("duplicates").asLong() + n.get("duplicates").asLong());
        summary.put("seconds", Math.round(seconds * 10) / 10.0);
        summary.put("throughputPerSecond", Math.round(applied / seconds));
        // over the whole run: the histograms count since the application started
        summary.put("latencyMsP50", millis(metrics, "eventline_pipeline_latency_seconds", 0.5));
        summary.put("latencyMsP99", millis(metrics, "eventline_pipeline_latency_seconds", 0.99));
        summary.put("confirmMsP99", millis(metrics, "eventline_gate_confirm_seconds", 0.99));
        summary.put("latencyTargetMs", Math.round(max(metrics, "eventline_function_latency_target_milliseconds")));
        System.out.println(JSON.writeValueAsString(summary));
        return lost == 0 && violations == 0 ? 0 : 1;
    }

    /** Events the example functions applied (in order), from their own reports. */
    private long applied() throws Exception {
        JsonNode o = get("/orderReport");
        JsonNode n = get("/notificationReport");
        return o.get("applied").asLong() + n.get("sent").asLong() + n.get("suppressed").asLong()
                + n.get("preferenceChanges").asLong();
    }

    /**
     * The larger of the consumers' lag (the age of the oldest event they hold in hand) and the gate's (which also
     * covers events ready in a queue while no consumer holds one: the consumers are between windows, or the broker
     * hands out events more slowly than they are taken). Either alone read 0 at times while events waited.
     */
    private static double lag(Map<String, Double> metrics) {
        return Math.max(max(metrics, "eventline_consumer_lag_seconds"), max(metrics, "eventline_function_lag_seconds"));
    }

    private static long handled(Map<String, Double> metrics) {
        return Math.round(metrics.entrySet().stream()
                .filter(e -> e.getKey().startsWith("eventline_processed_events_total{")
                        && e.getKey().contains("outcome=\"success\""))
                .mapToDouble(Map.Entry::getValue).sum());
    }

    private static double max(Map<String, Double> metrics, String name) {
        return metrics.entrySet().stream().filter(e -> e.getKey().startsWith(name + "{"))
                .mapToDouble(Map.Entry::getValue).max().orElse(0);
    }

    /** A quantile of a latency histogram, in whole milliseconds (0 when it counted nothing). */
    private static long millis(Map<String, Double> metrics, String histogram, double q) {
        double seconds = Histograms.quantile(metrics, histogram, "", q);
        return Double.isNaN(seconds) ? 0 : Math.round(seconds * 1000);
    }

    private static long depth(Channel channel, Names names, FunctionCatalog catalog) throws IOException {
        long depth = 0;
        for (FunctionDescription fn : catalog.all()) {
            for (String q : names.partitions(fn.name(), fn.partitions())) {
                depth += channel.queueDeclarePassive(q).getMessageCount();
            }
        }
        return depth;
    }

    private static long deadLettered(Channel channel, Names names, FunctionCatalog catalog) throws IOException {
        long count = 0;
        for (FunctionDescription fn : catalog.all()) {
            count += channel.queueDeclarePassive(names.deadLetterQueue(fn.name())).getMessageCount();
        }
        return count;
    }

    private Map<String, Double> metrics() throws Exception {
        Map<String, Double> values = new HashMap<>();
        for (String line : http.send(HttpRequest.newBuilder(base.resolve("/q/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body().split("\n")) {
            Matcher m = METRIC.matcher(line);
            if (m.matches() && m.group(1).startsWith("eventline_")) {
                values.put(m.group(1) + "{" + m.group(2) + "}", Double.parseDouble(m.group(3)));
            }
        }
        return values;
    }

    private JsonNode get(String path) throws Exception {
        return JSON.readTree(http.send(HttpRequest.newBuilder(base.resolve(path)).build(),
                HttpResponse.BodyHandlers.ofString()).body());
    }

    private void awaitReady(Process app) {
        try {
            await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(250)).until(() -> {
                if (!app.isAlive()) {
                    throw new IllegalStateException("the application exited with " + app.exitValue()
                            + "; see target/demo/app.log");
                }
                try {
                    return http.send(HttpRequest.newBuilder(base.resolve("/q/health/ready")).build(),
                            HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
                } catch (IOException notYet) {
                    return false; // not listening yet
                }
            });
        } catch (ConditionTimeoutException e) {
            throw new IllegalStateException("the application was not ready within 120 s; see target/demo/app.log");
        }
        log("application ready");
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static void log(String line) {
        System.err.println("[main-job] " + line);
    }
}
