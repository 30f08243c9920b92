package dev.eventline.loadtest;

import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;

import dev.eventline.testsupport.GateClient;
import dev.eventline.testsupport.TestBroker;

/**
 * The benchmark (docs/performance.md): on one broker, in one run, the broker's real ceiling (PerfTest
 * publishing and consuming at once on 4 and 8 quorum queues, at the highest rate its consumers keep pace with,
 * and its latency at half that rate), then the pipeline beside it: one partition, the gate alone, the
 * closed-loop per-key workload at 4 and 8 partitions, the maximum with a no-op handler, the partition window,
 * scaling over partitions and instances with a 5 ms handler against the naive single queue, overload at 5x the
 * sustainable rate against the latency target, latency at half the maximum, and start-up footprint. Every scenario
 * ends with the verifier (lost, out of order, duplicates). Prints a table, writes target/bench/results.json
 * and target/bench/overload.png; exit status 1 when a scenario lost or reordered events.
 * Run: {@code ./mvnw -Pbench verify} ({@code -Dbench.args="--seconds 20 --overload-seconds 60"}).
 */
public final class Benchmark {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final int PRODUCERS = 8;
    /** Calls at once per partition in the key-concurrency scenario. */
    private static final int KEY_CONCURRENCY = 16;
    /** How long the parked scenario's key fails. */
    private static final int FAILING_SECONDS = 30;
    /** The bench function sets no target: the default. */
    private static final long TARGET_MS = dev.eventline.config.DescriptionParser.DEFAULT_LATENCY_TARGET_MS;

    private final TestBroker broker = TestBroker.get();
    private final int seconds;
    private final int overloadSeconds;
    private final ObjectNode results = JSON.createObjectNode();
    private final List<String> table = new ArrayList<>();
    private boolean failed;

    private final String only;

    /** Further lines for the closed-loop, maximum and overload scenarios' description (--description k=v,k=v). */
    private final String description;
    /**
     * Seconds of load before a scenario's measured window, for the pipeline and PerfTest alike: the JVM's
     * compilers still took a fifth of the machine's CPU 20 s into a run (the flight recording's thread CPU
     * load), and on two CPUs a 3 s warm-up measured the compilers as much as the pipeline.
     */
    private final int warmup;

    private Benchmark(int seconds, int overloadSeconds, String only, String description, int warmup) {
        this.description = description;
        this.warmup = warmup;
        this.seconds = seconds;
        this.overloadSeconds = overloadSeconds;
        this.only = only;
    }

    public static void main(String[] args) throws Exception {
        int seconds = 20;
        int overload = 60;
        String only = "";
        String description = "";
        int warmup = 20;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--seconds" -> seconds = Integer.parseInt(args[i + 1]);
                case "--overload-seconds" -> overload = Integer.parseInt(args[i + 1]);
                case "--only" -> only = args[i + 1];
                case "--warmup" -> warmup = Integer.parseInt(args[i + 1]);
                case "--description" -> description = args[i + 1].replace("=", ": ").replace(",", "\n") + "\n";
                default -> {
                    System.err.println("unknown option " + args[i] + " (--seconds, --overload-seconds, --warmup, "
                            + "--only instances|window|gate|overload|closed|max|latency|footprint, --description)");
                    System.exit(2);
                }
            }
        }
        if (!Files.exists(Path.of("target/quarkus-app/quarkus-run.jar"))) {
            System.err.println("target/quarkus-app/quarkus-run.jar is missing: ./mvnw -Pbench verify builds it");
            System.exit(2);
        }
        Files.createDirectories(Path.of("target/bench"));
        Benchmark b = new Benchmark(seconds, overload, only, description, warmup);
        int status;
        try {
            status = b.run();
        } catch (Exception e) {
            System.err.println("benchmark failed: " + e);
            e.printStackTrace();
            status = 2;
        }
        System.exit(status);
    }

    private int run() throws Exception {
        results.put("machine", machine());
        results.put("broker", broker.description());
        results.put("secondsPerScenario", seconds);
        results.put("warmupSeconds", warmup);
        // one scenario alone
        if (List.of("instances", "window", "gate", "overload", "closed", "max", "latency", "footprint", "keys", "parked")
                .contains(only)) {
            switch (only) {
                case "closed" -> { // without the ceilings: rates and latency, no ratio
                    closedLoop(4, new Ceiling(4, Double.NaN, null));
                    closedLoop(8, new Ceiling(8, Double.NaN, null));
                }
                case "max" -> pipelineNoop(new Ceiling(8, Double.NaN, null));
                case "latency" -> latency(perfTestClasspath(), pipelineNoop(new Ceiling(8, Double.NaN, null)));
                case "instances" -> instances();
                case "window" -> window();
                case "overload" -> overload(1200); // about what 8 partitions of the 5 ms handler take
                case "footprint" -> footprint();
                case "keys" -> keys(pipelineNoop(new Ceiling(8, Double.NaN, null)));
                case "parked" -> parked();
                default -> gateAlone(perfTestClasspath());
            }
            Files.writeString(Path.of("target/bench/results-" + only + ".json"), JSON.writeValueAsString(results));
            table.forEach(System.out::println);
            return failed ? 1 : 0;
        }
        Path cp = perfTestClasspath();
        Ceiling four = ceiling(cp, 4);
        Ceiling eight = ceiling(cp, 8);
        onePartition(cp);
        gateAlone(cp);
        closedLoop(4, four);
        closedLoop(8, eight);
        double noop = pipelineNoop(eight);
        window();
        double sustainable = scaling();
        keys(noop);
        instances();
        overload(sustainable);
        latency(cp, noop);
        footprint();
        Files.writeString(Path.of("target/bench/results.json"), JSON.writeValueAsString(results));
        System.out.println();
        System.out.println("| scenario | result | target | met |");
        System.out.println("|---|---|---|---|");
        table.forEach(System.out::println);
        System.out.println();
        System.out.println("results: target/bench/results.json, chart: target/bench/overload.png");
        return failed ? 1 : 0;
    }

    // 1. Ceiling -------------------------------------------------------------------------------------------

    /** PerfTest, resolved by its own small pom (bench/perftest). */
    private static Path perfTestClasspath() throws Exception {
        Path cp = Path.of("target/bench/perftest.cp");
        int rc = new ProcessBuilder("./mvnw", "-q", "-B", "--no-transfer-progress", "-f", "bench/perftest/pom.xml",
                "dependency:build-classpath", "-Dmdep.outputFile=" + cp.toAbsolutePath()).inheritIO().start().waitFor();
        if (rc != 0) {
            throw new IllegalStateException("resolving PerfTest failed (exit " + rc + ")");
        }
        return cp;
    }

    /** What PerfTest measured in one run: rates, msg/s; consumer latency, ms. */
    private record PerfRun(double sent, double received, double p50Ms, double p99Ms) {

        boolean keptPace(double offered) {
            return received >= 0.97 * sent && (offered <= 0 || sent >= 0.95 * offered);
        }
    }

    /** The broker's ceiling on P queues and the latency anchor at half of it. */
    private record Ceiling(int queues, double perSecond, PerfRun half) {
    }

    /**
     * The broker's real ceiling on P quorum queues: PerfTest publishing and consuming at once, P producers and
     * P consumers, persistent event-sized messages, 100 confirms in flight, prefetch 200, acks with multiple
     * every 50. Unthrottled, the publishers can starve the consumers, so the ceiling is the highest rate at
     * which consumption keeps pace: the unthrottled run's receiving rate, then 15 % less until a paced run
     * keeps pace. Then PerfTest's latency at half that rate: the latency anchor.
     */
    private Ceiling ceiling(Path cp, int queues) throws Exception {
        log("PerfTest ceiling: " + queues + " quorum queues, publishing and consuming at once (confirms 100, "
                + "prefetch 200, multi-ack 50)");
        int size = eventSize();
        PerfRun open = perfTestRun(cp, queues, size, 200, 50, 0, "ceiling" + queues + "-open");
        double rate = open.received;
        PerfRun kept = open.keptPace(0) ? open : null;
        for (int i = 0; kept == null && i < 4; i++) {
            PerfRun paced = perfTestRun(cp, queues, size, 200, 50, rate, "ceiling" + queues + "-" + i);
            if (paced.keptPace(rate)) {
                kept = paced;
            } else {
                rate *= 0.85;
            }
        }
        double ceiling = kept == null ? rate : kept.received;
        PerfRun half = perfTestRun(cp, queues, size, 200, 50, ceiling / 2, "ceiling" + queues + "-half");
        results.putObject("perfTestCeiling" + queues).put("queues", queues).put("messageBytes", size)
                .put("unthrottledSentPerSecond", open.sent).put("unthrottledReceivedPerSecond", open.received)
                .put("ceilingPerSecond", ceiling).put("keptPace", kept != null)
                .put("halfRatePerSecond", ceiling / 2).put("halfRateP50Ms", half.p50Ms).put("halfRateP99Ms", half.p99Ms);
        row("PerfTest ceiling, " + queues + " quorum queues (publish + consume at once, keeping pace)",
                String.format(Locale.ROOT, "%.0f msg/s (unthrottled: sent %.0f, received %.0f); at half: p99 %.1f ms",
                        ceiling, open.sent, open.received, half.p99Ms), "", true);
        return new Ceiling(queues, ceiling, half);
    }

    /**
     * The gate alone (no consumers, limits out of the way), 8 partitions, 8 producers sending batches of 100
     * as fast as they are accepted, against PerfTest publishing alone with confirms (100 in flight) on 8 queues.
     */
    private void gateAlone(Path cp) throws Exception {
        log("gate alone: 8 partitions, no consumers, against PerfTest publishing alone");
        PerfRun perf = perfTestRun(cp, 8, 0, eventSize(), 200, 50, 0, "publish-only");
        String limits = "limits:\n  depth:\n    soft: 100000000\n    hard: 100000000\n    ceiling: 200000000\n"
                + "  lagSeconds:\n    soft: 86400\n    hard: 86400\n  latencyTargetMs: 86400000\n";
        try (BenchApp app = BenchApp.start(broker.amqpUrl(), "gate-alone", 8,
                List.of("-Deventline.functions.enabled=none"), limits).ready()) {
            String run = "g" + Long.toString(System.nanoTime(), 36);
            BenchDriver driver = new BenchDriver(app.events(), run, "bench.noop", PRODUCERS, 100, 0);
            waitUntil(System.nanoTime() + TimeUnit.SECONDS.toNanos(warmup));
            long a0 = driver.accepted.sum();
            long t0 = System.nanoTime();
            waitUntil(t0 + TimeUnit.SECONDS.toNanos(seconds));
            double perSecond = (driver.accepted.sum() - a0) / ((System.nanoTime() - t0) / 1e9);
            driver.stop();
            double ratio = perSecond / perf.sent;
            results.putObject("gateAlone").put("acceptedPerSecond", perSecond)
                    .put("perfTestPublishPerSecond", perf.sent).put("ratio", ratio)
                    .put("throttled", driver.throttled.sum()).put("unavailable", driver.unavailable.sum());
            row("gate alone (accepted, confirmed) / PerfTest publishing alone, 8 queues", String.format(Locale.ROOT,
                    "%.0f / %.0f events/s = %.2f", perSecond, perf.sent, ratio), ">= 0.5", ratio >= 0.5);
        }
    }

    /** One partition, no-op handler, default window, against PerfTest consuming one queue at the same prefetch. */
    private void onePartition(Path cp) throws Exception {
        int prefetch = dev.eventline.config.DescriptionParser.DEFAULT_PREFETCH;
        log("one queue: PerfTest at prefetch " + prefetch + " (multi-ack " + prefetch / 4 + ") against the pipeline");
        PerfRun perf = perfTestRun(cp, 1, eventSize(), prefetch, Math.max(1, prefetch / 4), 0, "one-queue");
        try (BenchApp app = BenchApp.start(broker.amqpUrl(), "one", 1).ready()) {
            Measured m = drive(app, "bench.noop", 100, 0, seconds);
            double ratio = m.perSecond / perf.received;
            results.putObject("onePartition").put("processedPerSecond", m.perSecond)
                    .put("perfTestReceivedPerSecond", perf.received).put("ratio", ratio).setAll(m.verdict);
            row("one partition, no-op / PerfTest one queue at prefetch " + prefetch, String.format(Locale.ROOT,
                    "%.0f / %.0f msg/s = %.2f", m.perSecond, perf.received, ratio), ">= 0.5", ratio >= 0.5);
        }
    }

    /**
     * The closed-loop per-key workload: 1,000 entities (8 producers of 125), batches of 100 events each for a
     * different entity over 8 HTTP connections, an entity's next event only once the batch that carried its
     * previous one got 202; no-op handler; latency from send to handler done.
     */
    private void closedLoop(int partitions, Ceiling ceiling) throws Exception {
        log("closed loop per key: 1000 entities, batches of 100, 8 connections, " + partitions + " partitions");
        try (BenchApp app = BenchApp.start(broker.amqpUrl(), "closed" + partitions, partitions, List.of(),
                description).ready()) {
            String run = "c" + Long.toString(System.nanoTime(), 36);
            BenchDriver driver = new BenchDriver(app.events(), run, "bench.noop", PRODUCERS, 100, 125, 0);
            long warm = System.nanoTime() + TimeUnit.SECONDS.toNanos(warmup);
            driver.measureFrom(warm);
            waitUntil(warm);
            long p0 = app.report().path("processed").asLong();
            long t0 = System.nanoTime();
            waitUntil(t0 + TimeUnit.SECONDS.toNanos(seconds));
            double perSecond = (app.report().path("processed").asLong() - p0) / ((System.nanoTime() - t0) / 1e9);
            driver.stop();
            ObjectNode verdict = verify(app, driver.accepted.sum());
            answers(verdict, driver);
            JsonNode r = app.report();
            double ratio = perSecond / ceiling.perSecond();
            double p99 = r.path("p99Ms").asDouble();
            // the two parts of an event's time: held at the gate, then queued and handled (the app's histograms, over
            // its whole run)
            double heldP99 = app.quantileMillis("eventline_gate_delay_seconds", 0.99);
            double queuedP99 = app.quantileMillis("eventline_pipeline_latency_seconds", 0.99);
            results.putObject("closedLoop" + partitions).put("processedPerSecond", perSecond)
                    .put("ratioToPerfTestCeiling", ratio).put("p50Ms", r.path("p50Ms").asDouble()).put("p99Ms", p99)
                    .put("gateHoldP99Ms", heldP99).put("acceptanceToDoneP99Ms", queuedP99).setAll(verdict);
            boolean four = partitions == 4;
            row("closed loop per key, " + partitions + " partitions / PerfTest ceiling on " + partitions + " queues",
                    String.format(Locale.ROOT, "%.0f / %.0f events/s = %.2f; p50 %.0f ms, p99 %.0f ms (held at the "
                            + "gate p99 %.0f ms, acceptance to done p99 %.0f ms)", perSecond, ceiling.perSecond(),
                            ratio, r.path("p50Ms").asDouble(), p99, heldP99, queuedP99),
                    four ? ">= 0.33, p99 < 250 ms" : "", !four || (ratio >= 0.33 && p99 < 250));
        }
    }

    /**
     * One PerfTest run publishing and consuming at once on {@code queues} new quorum queues (deleted after):
     * one producer and one consumer per queue, persistent messages of {@code size} bytes, 100 confirms in flight,
     * the prefetch and multi-ack given, {@code rate} msg/s in all (0: unthrottled), {@code seconds} long.
     */
    private PerfRun perfTestRun(Path cp, int queues, int size, int qos, int multiAck, double rate, String name)
            throws Exception {
        return perfTestRun(cp, queues, queues, size, qos, multiAck, rate, name);
    }

    /** The same with this many consumers (0: publishing alone). */
    private PerfRun perfTestRun(Path cp, int queues, int consumers, int size, int qos, int multiAck, double rate,
            String name) throws Exception {
        Path out = Path.of("target/bench/perftest-" + name + ".log");
        String run = "perf" + Long.toString(System.nanoTime(), 36);
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-cp", Files.readString(cp).trim(), "com.rabbitmq.perf.PerfTest", "--uri",
                broker.amqpUrl(), "--queue-pattern", run + "-%d", "--queue-pattern-from", "1", "--queue-pattern-to",
                String.valueOf(queues), "--producers", String.valueOf(queues), "--consumers", String.valueOf(consumers),
                "--quorum-queue", "--flag", "persistent", "--confirm", "100", "--qos", String.valueOf(qos),
                "--multi-ack-every", String.valueOf(multiAck), "--size", String.valueOf(size), "--auto-delete", "false",
                "--time", String.valueOf(warmup + Math.max(10, seconds))));
        if (rate > 0) {
            command.addAll(List.of("--rate", String.valueOf(Math.max(1, (int) (rate / queues)))));
        }
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        try {
            if (!p.waitFor(300L + warmup + seconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("PerfTest did not finish; see " + out);
            }
        } finally {
            try (Connection c = broker.connectionFactory().newConnection("bench-cleanup");
                    Channel ch = c.createChannel()) {
                for (int i = 1; i <= queues; i++) {
                    ch.queueDelete(run + "-" + i);
                }
            }
        }
        String text = Files.readString(out);
        Matcher latency = Pattern.compile("consumer latency min/median/75th/95th/99th ([0-9]+)/([0-9]+)/([0-9]+)/"
                + "([0-9]+)/([0-9]+) µs").matcher(text);
        PerfRun r = new PerfRun(steady(text, "sent", out), consumers == 0 ? 0 : steady(text, "received", out),
                latency.find() ? Long.parseLong(latency.group(2)) / 1000.0 : Double.NaN,
                latency.find(0) ? Long.parseLong(latency.group(5)) / 1000.0 : Double.NaN);
        log(String.format(Locale.ROOT, "PerfTest %s: offered %s, sent %.0f, received %.0f msg/s, p99 %.1f ms", name,
                rate > 0 ? String.format(Locale.ROOT, "%.0f", rate) : "unthrottled", r.sent, r.received, r.p99Ms));
        return r;
    }

    /**
     * PerfTest's mean rate over the seconds after the warm-up, from its per-second lines ("time 21.001 s, sent:
     * 15234 msg/s, ... received: 15012 msg/s"), as the pipeline's rates are measured. (Its latency percentiles
     * are over the whole run, warm-up included: PerfTest's first second had a p99 2-3 times the rest, so the
     * anchor is, if anything, easier to meet.)
     */
    private double steady(String text, String what, Path out) {
        Matcher m = Pattern.compile("time ([0-9.]+) s, .*?\\b" + what + ": ([0-9.]+) msg/s").matcher(text);
        double sum = 0;
        int n = 0;
        while (m.find()) {
            if (Double.parseDouble(m.group(1)) > warmup + 0.5) {
                sum += Double.parseDouble(m.group(2));
                n++;
            }
        }
        if (n == 0) {
            throw new IllegalStateException("no per-second '" + what + "' line after the warm-up in PerfTest's output; "
                    + "see " + out);
        }
        return sum / n;
    }

    private static int eventSize() {
        return GateClient.event("bench-key-0-1", "bench.noop", "bench-key-0", Map.of("key", "bench-key-0", "step", 1,
                "sentAtMs", System.currentTimeMillis())).toString().length();
    }

    /** The pipeline's maximum: 8 partitions, no-op handler, 8 producers sending batches of 100 as fast as accepted. */
    private double pipelineNoop(Ceiling ceiling) throws Exception {
        log("pipeline maximum, no-op handler, 8 partitions, batches of 100 from 8 producers");
        try (BenchApp app = BenchApp.start(broker.amqpUrl(), "noop8", 8, List.of(), description).ready()) {
            Measured m = drive(app, "bench.noop", 100, 0, seconds);
            double ratio = m.perSecond / ceiling.perSecond();
            results.putObject("pipelineNoop").put("processedPerSecond", m.perSecond)
                    .put("ratioToPerfTestCeiling", ratio).setAll(m.verdict);
            row("maximum: pipeline, 8 partitions, no-op / PerfTest ceiling on 8 queues", String.format(Locale.ROOT,
                    "%.0f / %.0f events/s = %.2f", m.perSecond, ceiling.perSecond(), ratio), ">= 0.5", ratio >= 0.5);
            return m.perSecond;
        }
    }

    // 1b. Window ------------------------------------------------------------------------------------------

    /**
     * The partition window: the no-op pipeline at its open-loop maximum (batches of 100 from 8 producers) with
     * 1 and with 4 partitions, at prefetch 1 (one event per broker round trip, as before windows) and at the
     * default, side by side in one run; latency (send to handler done) of events sent after the warm-up.
     */
    private void window() throws Exception {
        ObjectNode out = results.putObject("window");
        for (int p : new int[] {1, 4}) {
            double[] rates = new double[2];
            int i = 0;
            for (int prefetch : new int[] {1, dev.eventline.config.DescriptionParser.DEFAULT_PREFETCH}) {
                log("no-op handler, " + p + " partition(s), prefetch " + prefetch);
                try (BenchApp app = BenchApp.start(broker.amqpUrl(), "window" + p + "-" + prefetch, p, List.of(),
                        "prefetch: " + prefetch + "\n").ready()) {
                    Measured m = drive(app, "bench.noop", 100, 0, seconds);
                    JsonNode r = app.report();
                    out.putObject(p + "x" + prefetch).put("processedPerSecond", m.perSecond)
                            .put("p50Ms", r.path("p50Ms").asDouble()).put("p99Ms", r.path("p99Ms").asDouble())
                            .setAll(m.verdict);
                    row("window: no-op, " + p + " partition(s), prefetch " + prefetch, String.format(Locale.ROOT,
                            "%.0f events/s, p50 %.0f ms, p99 %.0f ms", m.perSecond, r.path("p50Ms").asDouble(),
                            r.path("p99Ms").asDouble()), "", true);
                    rates[i++] = m.perSecond;
                }
            }
            row("window: " + p + " partition(s), prefetch " + dev.eventline.config.DescriptionParser.DEFAULT_PREFETCH
                    + " / prefetch 1", String.format(Locale.ROOT, "%.1fx", rates[1] / rates[0]), "", true);
        }
    }

    // 2. Scaling ------------------------------------------------------------------------------------------

    private double scaling() throws Exception {
        ObjectNode scaling = results.putObject("scaling5ms");
        double naive = 0;
        double eight = 0;
        for (int p : new int[] {1, 2, 4, 8}) {
            log("5 ms handler, " + p + " partition(s)" + (p == 1 ? " = the naive design: one queue, one consumer" : ""));
            try (BenchApp app = BenchApp.start(broker.amqpUrl(), "io" + p, p).ready()) {
                Measured m = drive(app, "bench.io", 50, 0, Math.max(10, seconds * 3 / 4));
                scaling.putObject(String.valueOf(p)).put("processedPerSecond", m.perSecond).setAll(m.verdict);
                naive = p == 1 ? m.perSecond : naive;
                eight = p == 8 ? m.perSecond : eight;
                row("scaling: 5 ms handler, " + p + " partition(s)", String.format(Locale.ROOT, "%.0f events/s",
                        m.perSecond), "", true);
            }
        }
        double ratio = eight / naive;
        scaling.put("eightOverNaive", ratio);
        row("scaling: 8 partitions / naive", String.format(Locale.ROOT, "%.1fx", ratio), ">= 6x", ratio >= 6);
        return eight;
    }

    // 2a. Key concurrency ----------------------------------------------------------------------------------

    /**
     * Key concurrency (docs/partitions.md "Key concurrency"), the 5 ms handler: one partition of 1,000 keys with
     * one call at a time and with {@link #KEY_CONCURRENCY} at once; then 8 partitions of as many calls, against
     * the lower of their ideal rate and the no-op maximum of this run (profiled: target/bench/keys.jfr).
     */
    private void keys(double noop) throws Exception {
        ObjectNode out = results.putObject("keyConcurrency");
        double single = 0;
        for (int k : new int[] {1, KEY_CONCURRENCY}) {
            log("5 ms handler, 1 partition, 1000 keys, keyConcurrency " + k);
            try (BenchApp app = BenchApp.start(broker.amqpUrl(), "keys1-" + k, 1, List.of(),
                    description + "keyConcurrency: " + k + "\n").ready()) {
                Measured m = drive(List.of(app), "bench.io", 50, 1000 / PRODUCERS, 0, Math.max(10, seconds * 3 / 4));
                out.putObject("onePartition" + k).put("processedPerSecond", m.perSecond).setAll(m.verdict);
                if (k == 1) {
                    single = m.perSecond;
                    continue;
                }
                double ratio = m.perSecond / single;
                out.put("onePartitionRatio", ratio);
                row("keys: 5 ms handler, 1 partition, 1000 keys, " + k + " calls at once / 1 at a time",
                        String.format(Locale.ROOT, "%.0f / %.0f events/s = %.1fx", m.perSecond, single, ratio),
                        ">= 12x", ratio >= 12);
            }
        }
        log("5 ms handler, 8 partitions, keyConcurrency " + KEY_CONCURRENCY);
        List<String> jfr = List.of("-XX:StartFlightRecording=filename=target/bench/keys.jfr,settings=profile,"
                + "dumponexit=true");
        try (BenchApp app = BenchApp.start(broker.amqpUrl(), "keys8", 8, jfr,
                description + "keyConcurrency: " + KEY_CONCURRENCY + "\n").ready()) {
            Measured m = drive(List.of(app), "bench.io", 100, 0, 0, seconds);
            double bound = Math.min(8 * KEY_CONCURRENCY * 200.0, noop);
            double ratio = m.perSecond / bound;
            out.putObject("eightPartitions").put("processedPerSecond", m.perSecond).put("bound", bound)
                    .put("ratio", ratio).setAll(m.verdict);
            row("keys: 5 ms handler, 8 partitions, " + KEY_CONCURRENCY + " calls at once / min(ideal, no-op maximum)",
                    String.format(Locale.ROOT, "%.0f / %.0f events/s = %.2f", m.perSecond, bound, ratio), ">= 0.8",
                    ratio >= 0.8);
        }
    }

    /**
     * Parked mode: one partition of {@link #KEY_CONCURRENCY} calls, the 5 ms handler and 1,000 keys driven as fast
     * as the gate takes them; the other keys' rate while one key fails every call for {@link #FAILING_SECONDS} s
     * (its events, up to 20 a second, parked meanwhile), against their rate without it (the mean of the half as
     * long before and after, so drift does not count), in the same run; then every event, the failing key's
     * included, applied once and in order (profiled: target/bench/parked.jfr).
     */
    private void parked() throws Exception {
        ObjectNode out = results.putObject("parkedKey");
        log("5 ms handler, 1 partition, keyConcurrency " + KEY_CONCURRENCY + ", parked mode, one key failing for "
                + FAILING_SECONDS + " s");
        List<String> jfr = List.of("-XX:StartFlightRecording=filename=target/bench/parked.jfr,settings=profile,"
                + "dumponexit=true");
        try (BenchApp app = BenchApp.start(broker.amqpUrl(), "parked", 1, jfr, description + "keyConcurrency: "
                + KEY_CONCURRENCY + "\nretry:\n  mode: parked\n  maxAttempts: 100\n  maxDelayMs: 1000\n").ready()) {
            String run = "r" + Long.toString(System.nanoTime(), 36);
            BenchDriver driver = new BenchDriver(app.events(), run, "bench.io", PRODUCERS, 50, 1000 / PRODUCERS, 0);
            waitUntil(System.nanoTime() + TimeUnit.SECONDS.toNanos(warmup));
            long p0 = app.report().path("processed").asLong();
            long t0 = System.nanoTime();
            waitUntil(t0 + TimeUnit.SECONDS.toNanos(FAILING_SECONDS / 2));
            long p1 = app.report().path("processed").asLong();
            long t1 = System.nanoTime();
            double before = (p1 - p0) / ((t1 - t0) / 1e9);

            String key = run + "-failing";
            long failUntil = System.currentTimeMillis() + TimeUnit.SECONDS.toMillis(FAILING_SECONDS);
            GateClient client = new GateClient(app.events());
            long sent = 0;
            long next = System.nanoTime();
            while (System.currentTimeMillis() < failUntil) {
                sent++;
                client.deliver(List.of(GateClient.event(key + "-" + sent, "bench.io", key,
                        Map.of("key", key, "step", sent, "failUntilMs", failUntil))), 20);
                next += TimeUnit.MILLISECONDS.toNanos(50);
                waitUntil(next);
            }
            long p2 = app.report().path("processed").asLong();
            long t2 = System.nanoTime();
            double beside = (p2 - p1) / ((t2 - t1) / 1e9); // the failing key applied nothing meanwhile
            waitUntil(t2 + TimeUnit.SECONDS.toNanos(FAILING_SECONDS / 2));
            long p3 = app.report().path("processed").asLong();
            double after = (p3 - p2 - sent) / ((System.nanoTime() - t2) / 1e9); // less the failing key's, drained
            double alone = (before + after) / 2;
            log(String.format(Locale.ROOT, "the other keys: %.0f events/s before, %.0f beside the failing key, %.0f "
                    + "after", before, beside, after));
            driver.stop();
            ObjectNode verdict = verify(app, driver.accepted.sum() + sent);
            answers(verdict, driver);
            double ratio = beside / alone;
            out.put("beforeEventsPerSecond", before).put("afterEventsPerSecond", after)
                    .put("aloneEventsPerSecond", alone).put("besideFailingKeyEventsPerSecond", beside).put("ratio", ratio)
                    .put("failingKeyEvents", sent).setAll(verdict);
            row("parked: 5 ms handler, 1 partition, " + KEY_CONCURRENCY + " calls, 1000 keys, the other keys' rate "
                    + "while one key fails " + FAILING_SECONDS + " s / without it",
                    String.format(Locale.ROOT, "%.0f / %.0f events/s = %.2f; %d events of the failing key, lost %d, "
                            + "out of order %d", beside, alone, ratio, sent, verdict.path("lost").asLong(),
                            verdict.path("violations").asLong()), ">= 0.9, 0 lost, 0 out of order",
                    ratio >= 0.9 && verdict.path("lost").asLong() == 0 && verdict.path("violations").asLong() == 0);
        }
    }

    // 2b. Instances -----------------------------------------------------------------------------------------

    /** The 5 ms handler, 8 partitions, run by 1, 2 and 4 instances (separate processes sharing the partitions). */
    private void instances() throws Exception {
        ObjectNode out = results.putObject("instances5ms8partitions");
        for (int n : new int[] {1, 2, 4}) {
            log("5 ms handler, 8 partitions, " + n + " instance(s), 2 delivery threads each");
            String prefix = "inst" + Long.toString(System.nanoTime(), 36) + "-";
            List<BenchApp> fleet = new ArrayList<>();
            try {
                for (int i = 0; i < n; i++) {
                    fleet.add(BenchApp.start(broker.amqpUrl(), "inst" + n + "-" + i, 8, List.of(), prefix, i == 0,
                            2));
                }
                for (BenchApp app : fleet) {
                    app.ready();
                }
                // start sending once the partitions are shared out, so each key stays with one instance (and one
                // verifier) for the whole run
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (!settled(fleet, 8) && System.nanoTime() < deadline) {
                    waitUntil(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(200));
                }
                Measured m = drive(fleet, "bench.io", 50, 0, Math.max(10, seconds * 3 / 4));
                out.putObject(String.valueOf(n)).put("processedPerSecond", m.perSecond).setAll(m.verdict);
                row("instances: 5 ms handler, 8 partitions, " + n + " instance(s) of 2 threads",
                        String.format(Locale.ROOT, "%.0f events/s", m.perSecond), "", true);
            } finally {
                for (int i = fleet.size() - 1; i >= 0; i--) { // the first owns the queues: it deletes them, last
                    fleet.get(i).close();
                }
            }
        }
    }

    /** Every partition owned, and shared evenly (floor or ceil) among the instances. */
    private static boolean settled(List<BenchApp> fleet, int partitions) throws Exception {
        int total = 0;
        for (BenchApp app : fleet) {
            double owned = app.metric("eventline_partitions_owned", "function=\"bench\"");
            if (Double.isNaN(owned) || owned < partitions / fleet.size() || owned > (partitions + fleet.size() - 1)
                    / fleet.size()) {
                return false;
            }
            total += (int) owned;
        }
        return total == partitions;
    }

    // 3. Overload -----------------------------------------------------------------------------------------

    private void overload(double sustainable) throws Exception {
        double offered = 5 * sustainable;
        log(String.format(Locale.ROOT, "overload: %.0f events/s (5x the sustainable %.0f) for %d s, 5 ms handler, "
                + "8 partitions, default limits", offered, sustainable, overloadSeconds));
        List<double[]> rate = new ArrayList<>();
        List<double[]> depth = new ArrayList<>();
        List<double[]> lag = new ArrayList<>();
        List<double[]> rss = new ArrayList<>();
        try (BenchApp app = BenchApp.start(broker.amqpUrl(), "overload", 8, List.of(), description).ready()) {
            String run = "ov" + Long.toString(System.nanoTime(), 36);
            BenchDriver driver = new BenchDriver(app.events(), run, "bench.io", PRODUCERS, 50, offered);
            long t0 = System.nanoTime();
            long last = app.report().path("processed").asLong();
            double maxDepth = 0;
            double floodEnd = overloadSeconds;
            double recovered = Double.NaN;
            double acceptedP99 = Double.NaN;
            for (int s = 1; s <= overloadSeconds + 60; s++) {
                waitUntil(t0 + TimeUnit.SECONDS.toNanos(s));
                long now = app.report().path("processed").asLong();
                double d = app.metric("eventline_function_depth_events", "function=\"bench\"");
                double l = app.metric("eventline_function_lag_seconds", "function=\"bench\"");
                rate.add(new double[] {s, now - last});
                depth.add(new double[] {s, d});
                lag.add(new double[] {s, l});
                rss.add(new double[] {s, app.rssMiB()});
                maxDepth = Math.max(maxDepth, d);
                last = now;
                if (s == overloadSeconds) {
                    acceptedP99 = app.quantileMillis("eventline_pipeline_latency_seconds", 0.99);
                    driver.stop();
                }
                if (s > overloadSeconds && l < 1 && Double.isNaN(recovered)) {
                    recovered = s - floodEnd;
                    break;
                }
            }
            if (s(rate) <= overloadSeconds) {
                driver.stop();
            }
            ObjectNode verdict = verify(app, driver.accepted.sum());
            double delayed = app.metric("eventline_gate_admission_decisions_total", "decision=\"delayed\"");
            double refused = app.metric("eventline_gate_admission_decisions_total", "decision=\"throttled\"");
            // growth: the largest reading of the flood's second half against the largest of its first half after
            // a 10 s warm-up. A bounded process stays under its first peak; a leak or an unbounded buffer climbs past
            // it. (One reading at 10 s, as before, fell in the second the JVM gave 83 MiB of heap back, 300 -> 217
            // MiB, and made a flat 230-239 MiB look like 10 % growth.)
            int half = 9 + Math.max(1, (overloadSeconds - 9) / 2);
            double rssWarm = rss.stream().skip(9).limit(half - 9).mapToDouble(p -> p[1]).max()
                    .orElse(rss.get(rss.size() - 1)[1]);
            double rssMax = rss.stream().skip(half).limit(Math.max(0, overloadSeconds - half)).mapToDouble(p -> p[1])
                    .max().orElse(rssWarm);
            double growth = (rssMax - rssWarm) / rssWarm;
            long hard = 50_000;
            long inFlight = (long) PRODUCERS * 50;
            ObjectNode o = results.putObject("overload");
            o.put("offeredPerSecond", offered).put("sustainablePerSecond", sustainable)
                    .put("accepted", driver.accepted.sum()).put("throttled", driver.throttled.sum())
                    .put("unavailable", driver.unavailable.sum()).put("gateDelayed", delayed)
                    .put("gateThrottled", refused).put("maxDepth", maxDepth)
                    .put("rssWarmMiB", rssWarm).put("rssMaxMiB", rssMax).put("rssGrowth", growth)
                    .put("secondsToLagUnder1s", recovered).put("latencyTargetMs", TARGET_MS)
                    .put("acceptedP99Ms", acceptedP99).setAll(verdict);
            o.set("series", JSON.valueToTree(Map.of("processedPerSecond", rate, "depth", depth, "lagSeconds", lag,
                    "rssMiB", rss)));
            row("overload: lost / out of order", verdict.path("lost").asLong() + " / "
                    + verdict.path("violations").asLong(), "0 / 0", verdict.path("lost").asLong() == 0
                            && verdict.path("violations").asLong() == 0);
            row("overload: gate throttled (requests held / answered 429)", String.format(Locale.ROOT, "%.0f / %.0f",
                    delayed, refused), "> 0", delayed + refused > 0);
            row("overload: max depth", String.format(Locale.ROOT, "%.0f", maxDepth), "<= hard " + hard
                    + " + in-flight " + inFlight, maxDepth <= hard + inFlight);
            row("overload: accepted events' p99, gate acceptance to handler done", String.format(Locale.ROOT,
                    "%.0f ms (latency target %d ms)", acceptedP99, TARGET_MS), "<= 2x target",
                    acceptedP99 <= 2 * TARGET_MS);
            row("overload: RSS growth (peak of the second half against the first, after 10 s)",
                    String.format(Locale.ROOT, "%.1f %% (%.0f -> %.0f MiB)", 100 * growth, rssWarm, rssMax), "< 10 %",
                    growth < 0.10);
            row("overload: lag under 1 s after the flood", Double.isNaN(recovered) ? "not within 60 s"
                    : String.format(Locale.ROOT, "%.0f s", recovered), "<= 10 s", recovered <= 10);
            Chart.write(Path.of("target/bench/overload.png"), String.format(Locale.ROOT,
                    "overload: %.0f events/s offered (5x sustainable) for %d s, 5 ms handler, 8 partitions", offered,
                    overloadSeconds), List.of(
                            new Chart.Series("processed", "events/s", rate, new Color(30, 120, 200)),
                            new Chart.Series("queue depth", "events", depth, new Color(200, 120, 30)),
                            new Chart.Series("lag", "s", lag, new Color(180, 40, 40), TARGET_MS / 1000.0),
                            new Chart.Series("RSS", "MiB", rss, new Color(60, 150, 60))),
                    new double[] {floodEnd});
        }
    }

    private static int s(List<double[]> series) {
        return series.size();
    }

    // 4. Latency ------------------------------------------------------------------------------------------

    private void latency(Path cp, double maxNoop) throws Exception {
        double half = maxNoop / 2;
        PerfRun perf = perfTestRun(cp, 8, eventSize(), 200, 50, half, "latency-anchor");
        log(String.format(Locale.ROOT, "latency: no-op handler at %.0f events/s (half the maximum)", half));
        // a flight recording of this run (GC pauses, hot methods, lock waits) says what the tail is made of
        List<String> jfr = List.of("-XX:StartFlightRecording=filename=target/bench/latency.jfr,settings=profile,dumponexit=true");
        try (BenchApp app = BenchApp.start(broker.amqpUrl(), "latency", 8, jfr).ready()) {
            Measured m = drive(app, "bench.noop", 20, half, seconds);
            JsonNode r = app.report();
            double p50 = r.path("p50Ms").asDouble();
            double p99 = r.path("p99Ms").asDouble();
            double p999 = r.path("p999Ms").asDouble();
            double gateP99 = app.quantileMillis("eventline_pipeline_latency_seconds", 0.99);
            // the broker's share: publishing a request's events to their last confirm (whole run)
            double confirmP99 = app.quantileMillis("eventline_gate_confirm_seconds", 0.99);
            results.putObject("latency").put("offeredPerSecond", half).put("processedPerSecond", m.perSecond)
                    .put("measuredEvents", r.path("measured").asLong()).put("p50Ms", p50).put("p99Ms", p99)
                    .put("p999Ms", p999).put("gateAcceptanceToDoneP99MsWholeRun", gateP99)
                    .put("publishToConfirmP99MsWholeRun", confirmP99).setAll(m.verdict);
            results.with("latency").put("perfTestP99MsAtTheSameRate", perf.p99Ms)
                    .put("ratioToPerfTestP99", p99 / perf.p99Ms);
            row("latency at half the maximum: p50 / p99 / p999", String.format(Locale.ROOT,
                    "%.1f / %.1f / %.1f ms (PerfTest p99 at that rate: %.1f ms; the gate's publish to confirm p99 "
                            + "%.0f ms)", p50, p99, p999, perf.p99Ms, confirmP99),
                    "p99 < 100 ms and <= 3x PerfTest", p99 < 100 && p99 <= 3 * perf.p99Ms);
        }
    }

    // 5. Footprint ----------------------------------------------------------------------------------------

    /**
     * Cold starts (ColdStart: a function's process, one partition, started with an event waiting): the JVM jar and,
     * when native-build.sh has built one, the native executable, in turns, three measured starts each after one
     * unmeasured start of each. A failed start is recorded as such; the results written so far are kept.
     */
    private void footprint() throws Exception {
        Optional<Path> executable = ColdStart.nativeExecutable();
        log("footprint: cold starts of one function (1 partition), JVM" + executable.map(p -> " and native: "
                + ColdStart.describe(p)).orElse(" only: no native executable (./native-build.sh builds one)"));
        List<ColdStart.Start> jvm = new ArrayList<>();
        List<ColdStart.Start> natives = new ArrayList<>();
        String failure = null;
        try (ColdStart cold = new ColdStart(broker.amqpUrl())) {
            List<String> nativeCommand = executable.map(p -> List.of(p.toString())).orElse(null);
            cold.measure(ColdStart.jvm(), "jvm");
            if (nativeCommand != null) {
                cold.measure(nativeCommand, "native");
            }
            for (int i = 0; i < 3; i++) {
                jvm.add(cold.measure(ColdStart.jvm(), "jvm"));
                if (nativeCommand != null) {
                    natives.add(cold.measure(nativeCommand, "native"));
                }
            }
        } catch (Exception e) {
            failure = "a cold start failed: " + e.getMessage() + " (see target/bench/app-cold-*.log)";
            log(failure);
        }
        ObjectNode f = results.putObject("footprint");
        f.set("jvm", JSON.valueToTree(jvm));
        if (failure != null) {
            f.put("failure", failure);
            row("footprint", failure, "", false);
        }
        if (!jvm.isEmpty()) {
            row("footprint (JVM): start to ready / to the waiting event processed / RSS at rest", ColdStart.summary(jvm,
                    ColdStart.Start::readyMs, "ms") + " / " + ColdStart.summary(jvm, ColdStart.Start::firstEventMs,
                            "ms") + " / " + ColdStart.summary(jvm, ColdStart.Start::restRssMiB, "MiB"), "", true);
        }
        if (executable.isEmpty()) {
            f.put("native", "not measured: no native executable in target/ (./native-build.sh builds one)");
            row("footprint (native)", "not measured: no native executable in target/ (./native-build.sh builds one)",
                    "", false);
            return;
        }
        f.put("nativeExecutable", ColdStart.describe(executable.get()));
        f.set("native", JSON.valueToTree(natives));
        if (natives.isEmpty()) {
            return;
        }
        double ready = ColdStart.median(natives, ColdStart.Start::readyMs);
        double first = ColdStart.median(natives, ColdStart.Start::firstEventMs);
        double rss = ColdStart.median(natives, ColdStart.Start::restRssMiB);
        f.put("nativeReadyMsMedian", ready).put("nativeFirstEventMsMedian", first).put("nativeRestRssMiBMedian", rss);
        row("footprint (native): start to ready / to the waiting event processed / RSS at rest",
                ColdStart.summary(natives, ColdStart.Start::readyMs, "ms") + " / "
                        + ColdStart.summary(natives, ColdStart.Start::firstEventMs, "ms") + " / "
                        + ColdStart.summary(natives, ColdStart.Start::restRssMiB, "MiB"),
                "ready < 80 ms, event < 100 ms, RSS < 48 MiB", ready < 80 && first < 100 && rss < 48);
    }

    // -----------------------------------------------------------------------------------------------------

    private record Measured(double perSecond, ObjectNode verdict) {
    }

    private Measured drive(BenchApp app, String type, int batch, double rate, int measureSeconds) throws Exception {
        return drive(List.of(app), type, batch, rate, measureSeconds);
    }

    private Measured drive(List<BenchApp> fleet, String type, int batch, double rate, int measureSeconds)
            throws Exception {
        return drive(fleet, type, batch, 0, rate, measureSeconds);
    }

    /**
     * Drives the function through the first process's gate at a rate (0: as fast as the gate takes),
     * measures a steady window, verifies over every process.
     *
     * @param keysPerProducer entities each producer owns, at least {@code batch} (0: {@code batch})
     */
    private Measured drive(List<BenchApp> fleet, String type, int batch, int keysPerProducer, double rate,
            int measureSeconds) throws Exception {
        BenchApp app = fleet.get(0);
        String run = "r" + Long.toString(System.nanoTime(), 36);
        BenchDriver driver = new BenchDriver(app.events(), run, type, PRODUCERS, batch, keysPerProducer, rate);
        long warm = System.nanoTime() + TimeUnit.SECONDS.toNanos(warmup);
        driver.measureFrom(warm); // latency of events sent after the warm-up
        waitUntil(warm);
        long p0 = sum(fleet, "processed");
        long t0 = System.nanoTime();
        waitUntil(t0 + TimeUnit.SECONDS.toNanos(measureSeconds));
        long p1 = sum(fleet, "processed");
        double perSecond = (p1 - p0) / ((System.nanoTime() - t0) / 1e9);
        driver.stop();
        ObjectNode verdict = verify(fleet, driver.accepted.sum());
        answers(verdict, driver);
        return new Measured(perSecond, verdict);
    }

    /** Adds the producers' 429 and 503 counts to a verdict, and logs them. */
    private static void answers(ObjectNode verdict, BenchDriver driver) {
        verdict.put("throttled", driver.throttled.sum()).put("unavailable", driver.unavailable.sum());
        log("gate answers: " + driver.throttled.sum() + " x 429, " + driver.unavailable.sum() + " x 503/no answer");
    }

    private static long sum(List<BenchApp> fleet, String field) throws Exception {
        long total = 0;
        for (BenchApp a : fleet) {
            total += a.report().path(field).asLong();
        }
        return total;
    }

    private ObjectNode verify(BenchApp app, long accepted) throws Exception {
        return verify(List.of(app), accepted);
    }

    /** Waits until every accepted event is processed (at most 120 s), then reads the verifiers. */
    private ObjectNode verify(List<BenchApp> fleet, long accepted) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (sum(fleet, "processed") < accepted && System.nanoTime() < deadline) {
            waitUntil(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(200));
        }
        long lost = accepted - sum(fleet, "processed");
        long violations = sum(fleet, "violations");
        if (lost != 0 || violations != 0) {
            failed = true;
        }
        ObjectNode v = JSON.createObjectNode();
        v.put("accepted", accepted).put("lost", lost).put("violations", violations)
                .put("duplicates", sum(fleet, "duplicates"));
        log("verifier: " + v);
        return v;
    }

    private void row(String scenario, String result, String target, boolean met) {
        table.add("| " + scenario + " | " + result + " | " + target + " | " + (target.isEmpty() ? "" : met ? "yes" : "no")
                + " |");
    }

    private static String machine() {
        return Runtime.getRuntime().availableProcessors() + " CPUs, " + System.getProperty("os.name") + " "
                + System.getProperty("os.arch") + ", Java " + System.getProperty("java.version");
    }

    /** Waits for the benchmark's own clock (timing a measurement, not synchronising with the system under test). */
    private static void waitUntil(long nanoTime) {
        for (long left; (left = nanoTime - System.nanoTime()) > 0;) {
            LockSupport.parkNanos(left);
        }
    }

    private static void log(String line) {
        System.err.println("[bench] " + line);
    }
}
