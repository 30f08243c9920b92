package dev.eventline.faultmatrix;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.awaitility.core.ConditionTimeoutException;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.rabbitmq.client.Address;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;

import dev.eventline.testsupport.LocalCluster;
import dev.eventline.testsupport.TcpProxy;

/**
 * The fault matrix ({@code ./mvnw -Pfaults verify}): a three-node RabbitMQ cluster of private nodes on
 * loopback, the packaged application as three processes (the gate, and two instances of one function that
 * journal what they apply) connected through TCP proxies with the address list of all three nodes, and a
 * steady closed-loop load through the gate while each fault of {@link Fault#all()} is injected in turn.
 * For each row it prints and writes to {@code target/faults/results.json}: accepted, processed,
 * dead-lettered, lost, reordered and duplicates, the gate's answers during the fault, and how long until
 * throughput was back, the gate's 503 reasons, and the partition queues' state when throughput never came back.
 * The exit status is 1 when a row lost or reordered an event, throughput was not back within 120 s of the
 * fault's end, or the gate gave an answer other than 202/429/503 or hung past the request timeout.
 * <p>
 * Options: {@code --only <substring>} runs the rows whose name contains it; {@code --key-concurrency <n>} gives
 * the function that many calls at once per partition (docs/partitions.md "Key concurrency"; default 1);
 * {@code --stuck-channel-probe} runs {@link StuckChannelProbe} instead.
 */
public final class FaultMatrix {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final Path DIR = Path.of("target", "faults");
    /** Longest a request may take: the gate's confirm timeout and longest hold, plus slack. */
    private static final Duration HANG = Duration.ofSeconds(12);
    private static final int PRODUCERS = 4;
    /** Partitions of the matrix's {@code bench} function. */
    static final int PARTITIONS = 4;
    private static final int KEYS_EACH = 40;
    /** Events per second offered: about half of what this setup drains on a busy 2-CPU machine. */
    private static final double RATE = 300;

    private final String only;
    /** The function's {@code keyConcurrency}. */
    private final int keyConcurrency;
    private final String queuePrefix = "fm" + Long.toString(System.currentTimeMillis(), 36) + "-";
    private final Journals journals = new Journals(DIR);
    private final Set<String> deadLettered = ConcurrentHashMap.newKeySet();
    private final List<ObjectNode> rows = new ArrayList<>();
    private LocalCluster cluster;
    private int polls;
    private final List<TcpProxy> proxies = new ArrayList<>();

    private FaultMatrix(String only, int keyConcurrency) {
        this.only = only;
        this.keyConcurrency = keyConcurrency;
    }

    public static void main(String[] args) throws Exception {
        if (args.length >= 1 && args[0].equals("--stuck-channel-probe")) {
            StuckChannelProbe.main(new String[0]);
            System.exit(0);
        }
        String only = "";
        int keyConcurrency = 1;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--only" -> only = args[i + 1];
                case "--key-concurrency" -> keyConcurrency = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + " (--only <substring>, --key-concurrency <n>, --stuck-channel-probe)");
            }
        }
        int status;
        try {
            status = new FaultMatrix(only, keyConcurrency).run();
        } catch (Throwable t) { // the matrix could not run to its end: say why, and end (no thread may hold the VM)
            t.printStackTrace();
            status = 2;
        }
        System.exit(status);
    }

    private int run() throws Exception {
        if (!Files.exists(Path.of("target/quarkus-app/quarkus-run.jar"))) {
            throw new IllegalStateException("target/quarkus-app/quarkus-run.jar is missing: ./mvnw -Pfaults verify "
                    + "builds it first");
        }
        Files.createDirectories(DIR);
        try (var journalsOld = Files.newDirectoryStream(DIR, "journal-*.log")) {
            for (Path old : journalsOld) {
                Files.delete(old);
            }
        }
        long t0 = System.nanoTime();
        cluster = LocalCluster.startCluster(3);
        ScheduledExecutorService poller = Executors.newSingleThreadScheduledExecutor();
        List<AppProcess> functions = new ArrayList<>();
        AppProcess gate = null;
        try {
            for (LocalCluster.Node n : cluster.nodes()) {
                proxies.add(new TcpProxy(n.amqpPort()));
            }
            Map<String, String> env = environment();
            gate = new AppProcess("gate", with(env, "EVENTLINE_FUNCTIONS_ENABLED", "none"), DIR).start();
            for (String role : List.of("fn-a", "fn-b")) {
                functions.add(new AppProcess(role, with(env, "EVENTLINE_GATE_ENABLED", "false"), DIR).start());
            }
            poller.scheduleWithFixedDelay(this::poll, 0, 200, TimeUnit.MILLISECONDS);
            warmUp(gate);
            Fault.Target target = new Fault.Target(cluster, proxies, gate, functions, queuePrefix);
            int index = 0;
            for (Fault fault : Fault.all()) {
                index++;
                if (fault.name.contains(only)) {
                    rows.add(row(index, fault, target));
                    writeResults(t0);
                }
            }
        } finally {
            poller.shutdownNow();
            for (AppProcess f : functions) {
                f.stop();
            }
            if (gate != null) {
                gate.stop();
            }
            proxies.forEach(TcpProxy::close);
            cluster.close();
        }
        return report(t0);
    }

    /** The first row's baseline would be a cold JVM's: run the load unmeasured first. */
    private void warmUp(AppProcess gate) throws Exception {
        log("function bench: " + PARTITIONS + " partitions, keyConcurrency " + keyConcurrency
                + "; warming up for 20 s");
        ClosedLoop load = new ClosedLoop(gate.events(), "warm-", PRODUCERS, KEYS_EACH, RATE, Duration.ofSeconds(30));
        Fault.hold(Duration.ofSeconds(20));
        load.stop();
        awaitDrained("warm-", load.accepted());
    }

    private Map<String, String> environment() throws IOException {
        Path fnDir = DIR.resolve("functions").resolve("bench");
        Files.createDirectories(fnDir);
        Files.writeString(fnDir.resolve("function.yaml"), String.join("\n",
                "name: bench",
                "eventTypes: [bench.noop]",
                "partitions: " + PARTITIONS,
                "concurrency: 4",
                "keyConcurrency: " + keyConcurrency,
                "timeoutMs: 2000",
                "retry:",
                "  maxAttempts: 6",
                "  initialDelayMs: 200",
                "  maxDelayMs: 2000",
                ""));
        Map<String, String> env = new LinkedHashMap<>();
        env.put("RABBITMQ_URL", cluster.amqpUrl());
        env.put("RABBITMQ_ADDRESSES", String.join(",", proxies.stream().map(p -> "127.0.0.1:" + p.port()).toList()));
        env.put("RABBITMQ_RECONNECT_INTERVAL", "1s");
        env.put("EVENTLINE_TOPOLOGY_PREFIX", queuePrefix);
        env.put("EVENTLINE_FUNCTIONS_DIR", DIR.resolve("functions").toAbsolutePath().toString());
        env.put("EVENTLINE_GATE_OPEN", "true");
        env.put("EVENTLINE_GATE_CONFIRM_TIMEOUT", "5s");
        env.put("QUARKUS_LOG_CATEGORY__DEV_EVENTLINE__LEVEL", "INFO");
        return env;
    }

    private static Map<String, String> with(Map<String, String> env, String key, String value) {
        Map<String, String> copy = new LinkedHashMap<>(env);
        copy.put(key, value);
        return copy;
    }

    private ObjectNode row(int index, Fault fault, Fault.Target target) throws Exception {
        String keys = "r" + index + "-";
        log("row " + index + ": " + fault.name);
        ClosedLoop load = new ClosedLoop(target.gate().events(), keys, PRODUCERS, KEYS_EACH, RATE, Duration.ofSeconds(30));
        fault.load(load);
        long started = now();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250)).until(() -> now() - started > 8000
                && journals.countBetween(keys, now() - 3000, now()) > 100);
        long measured = now() - 500; // what the journals hold by now
        double baseline = journals.countBetween(keys, measured - 5000, measured) / 5.0;
        double acceptedBaseline = sum(load.acceptedPerTenthOfASecond(measured - 5000, measured)) / 5.0;
        long injected = now();
        try {
            fault.inject(target);
        } catch (RuntimeException e) {
            load.stop(); // the row ends here; its producers must not outlive it
            throw e;
        }
        long cleared = now();
        long recovered = awaitThroughput(keys, load, baseline, acceptedBaseline, injected, cleared);
        long over = recovered < 0 ? now() : Math.max(recovered, cleared);
        List<String> stuckQueues = new ArrayList<>();
        if (recovered < 0) { // what the partitions looked like while throughput stayed down, before restore()
            for (int p = 0; p < PARTITIONS; p++) {
                String queue = queuePrefix + "bench-" + p;
                stuckQueues.add(queue + ": " + cluster.describeQueue(queue));
            }
        }
        Fault.hold(Duration.ofSeconds(2));
        load.stop();
        fault.restore(target);
        Verdict v = awaitDrained(keys, load.accepted());
        ObjectNode row = JSON.createObjectNode();
        row.put("fault", fault.name);
        row.put("accepted", v.accepted()).put("processed", v.processed()).put("deadLettered", v.deadLettered())
                .put("lost", v.lost()).put("reordered", v.reordered()).put("duplicates", v.duplicates());
        row.put("baselinePerSecond", Math.round(baseline));
        row.put("acceptedBaselinePerSecond", Math.round(acceptedBaseline));
        row.put("faultMillis", cleared - injected);
        row.put("throughputBackAfterMillis", recovered < 0 ? -1 : recovered - injected);
        row.put("lowestRatePercent", lowestRate(keys, baseline, injected, over));
        answers(row, load, injected, over + 2000, fault.gateDown());
        timeline(row, keys, load, injected - 3000, over + 3000);
        if (!stuckQueues.isEmpty()) {
            stuckQueues.forEach(row.putArray("queuesWhileDown")::add);
        }
        ObjectNode refusals = row.putObject("refusals");
        load.refusals().forEach(refusals::put);
        if (load.failure() != null) {
            row.put("loadFailure", load.failure());
        }
        log(row.toString());
        return row;
    }

    /**
     * @return when throughput was back for good (epoch ms): the end of the last 2-s window, from the injection
     *         on, in which events processed or events the gate accepted fell under 60 % of their pre-fault rate,
     *         once 4 s have passed since both the fault's end and that window with no window under it; the
     *         injection itself when no window fell under it; -1 when that did not happen within 120 s of the
     *         fault's end. Windows of 2 s: batches arrive a few per second, one late batch is not a fault.
     */
    private long awaitThroughput(String keys, ClosedLoop load, double processed, double accepted, long injected,
            long cleared) {
        while (now() < cleared + 120_000) {
            long to = now() - 500; // what the journals hold by now
            long[] done = journals.perTenthOfASecond(keys, injected, to);
            long[] taken = load.acceptedPerTenthOfASecond(injected, to);
            int windows = Math.min(done.length, taken.length);
            int lastLow = -1;
            for (int i = 20; i <= windows; i++) {
                if (sum(done, i - 20, i) < 1.2 * processed || sum(taken, i - 20, i) < 1.2 * accepted) {
                    lastLow = i;
                }
            }
            long back = lastLow < 0 ? injected : injected + 100L * lastLow;
            if (to - Math.max(back, cleared) >= 4000 && windows >= 20) {
                return back;
            }
            Fault.hold(Duration.ofMillis(250));
        }
        return -1;
    }

    private static long sum(long[] tenths) {
        return sum(tenths, 0, tenths.length);
    }

    private static long sum(long[] tenths, int from, int to) {
        long n = 0;
        for (int i = from; i < to; i++) {
            n += tenths[i];
        }
        return n;
    }

    /** The lowest 2-s rate of events processed between injection and recovery, in percent of the baseline. */
    private long lowestRate(String keys, double baseline, long from, long to) {
        long[] tenths = journals.perTenthOfASecond(keys, from, Math.max(to, from + 2000));
        long lowest = Long.MAX_VALUE;
        for (int i = 20; i <= tenths.length; i++) {
            lowest = Math.min(lowest, sum(tenths, i - 20, i));
        }
        return Math.round(100 * lowest / Math.max(1, 2 * baseline));
    }

    private Verdict awaitDrained(String keys, Map<String, Long> accepted) {
        try {
            await().atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofMillis(500))
                    .until(() -> Verdict.of(accepted, journals.of(keys), deadLettered).complete());
        } catch (ConditionTimeoutException e) {
            log("not everything drained in 180 s: counting what is missing as lost");
        }
        return Verdict.of(accepted, journals.of(keys), deadLettered);
    }

    /** The gate's answers between injection and recovery, and whether each was one the contract allows. */
    private static void answers(ObjectNode row, ClosedLoop load, long from, long to, boolean gateDown) {
        Map<String, Integer> counts = new java.util.TreeMap<>();
        int bad = 0;
        int hung = 0;
        for (ClosedLoop.Answer a : load.answers()) {
            if (a.atMillis() < from || a.atMillis() > to) {
                continue;
            }
            String status = a.status() == -1 ? "no-connection" : a.status() == -2 ? "timeout" : String.valueOf(a.status());
            counts.merge(status, 1, Integer::sum);
            boolean allowed = a.status() == 202 || a.status() == 429 || a.status() == 503
                    || (a.status() == -1 && gateDown);
            bad += allowed ? 0 : 1;
            hung += a.tookMillis() > HANG.toMillis() ? 1 : 0;
        }
        ObjectNode answers = row.putObject("answersDuringFault");
        counts.forEach(answers::put);
        row.put("answersNotAllowed", bad);
        row.put("answersOverRequestTimeout", hung);
    }

    /** Per second around the fault: events processed, and the gate's answers, for a reader of the results. */
    private void timeline(ObjectNode row, String keys, ClosedLoop load, long from, long to) {
        long[] tenths = journals.perTenthOfASecond(keys, from, to);
        ArrayNode seconds = row.putArray("timeline");
        for (int s = 0; s * 10 < tenths.length; s++) {
            long processed = sum(tenths, s * 10, Math.min(tenths.length, s * 10 + 10));
            long start = from + 1000L * s;
            Map<String, Integer> answers = new java.util.TreeMap<>();
            for (ClosedLoop.Answer a : load.answers()) {
                if (a.atMillis() >= start && a.atMillis() < start + 1000) {
                    answers.merge(String.valueOf(a.status()), 1, Integer::sum);
                }
            }
            seconds.add((start - from - 3000) / 1000 + "s: " + processed + " processed, answers " + answers);
        }
    }

    /** Reads the journals, and moves dead letters out of the function's dead-letter queue into the record. */
    private void poll() {
        try {
            journals.poll();
            if (++polls % 5 == 0) {
                drainDeadLetters();
            }
        } catch (RuntimeException e) {
            log("poll: " + e);
        }
    }

    private void drainDeadLetters() {
        ConnectionFactory factory = new ConnectionFactory();
        factory.setAutomaticRecoveryEnabled(false);
        factory.setConnectionTimeout(2000);
        List<Address> nodes = cluster.nodes().stream().map(n -> new Address("127.0.0.1", n.amqpPort())).toList();
        try (Connection c = factory.newConnection(nodes, "faultmatrix-dlq")) {
            Channel ch = c.createChannel();
            for (GetResponse r; (r = ch.basicGet(queuePrefix + "bench.dlq", true)) != null;) {
                JsonNode data = JSON.readTree(r.getBody()).path("data");
                deadLettered.add(data.path("key").asText() + "/" + data.path("step").asLong());
            }
        } catch (IOException | java.util.concurrent.TimeoutException | RuntimeException e) {
            // a node down, or the queue not there yet: next time
        }
    }

    private void writeResults(long t0) throws IOException {
        ObjectNode out = JSON.createObjectNode();
        out.put("cluster", cluster.nodes().size() + " nodes of the installed rabbitmq-server on loopback");
        out.put("load", PRODUCERS + " producers x " + KEYS_EACH + " keys, closed loop, batches of one step per key, "
                + RATE + " events/s offered");
        out.put("keyConcurrency", keyConcurrency);
        out.put("seconds", TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0));
        ArrayNode all = out.putArray("rows");
        rows.forEach(all::add);
        Files.writeString(DIR.resolve("results.json"), JSON.writeValueAsString(out));
    }

    private int report(long t0) throws IOException {
        writeResults(t0);
        System.out.println();
        System.out.println(String.format(Locale.ROOT, "%-66s %8s %9s %5s %4s %5s %5s %7s %5s %4s %s", "fault",
                "accepted", "processed", "dlq", "lost", "order", "dups", "back_s", "low%", "bad", "answers"));
        int failed = 0;
        for (ObjectNode r : rows) {
            boolean ok = r.path("lost").asLong() == 0 && r.path("reordered").asLong() == 0
                    && r.path("answersNotAllowed").asInt() == 0 && r.path("answersOverRequestTimeout").asInt() == 0
                    && !r.has("loadFailure") && r.path("throughputBackAfterMillis").asLong() >= 0;
            failed += ok ? 0 : 1;
            System.out.println(String.format(Locale.ROOT, "%-66s %8d %9d %5d %4d %5d %5d %7.1f %5d %4d %s%s",
                    r.path("fault").asText(), r.path("accepted").asLong(), r.path("processed").asLong(),
                    r.path("deadLettered").asLong(), r.path("lost").asLong(), r.path("reordered").asLong(),
                    r.path("duplicates").asLong(), r.path("throughputBackAfterMillis").asLong() / 1000.0,
                    r.path("lowestRatePercent").asLong(),
                    r.path("answersNotAllowed").asInt() + r.path("answersOverRequestTimeout").asInt(),
                    r.path("answersDuringFault"), ok ? "" : "   <-- FAILED"));
        }
        System.out.println(String.format(Locale.ROOT, "%d rows, %d failed, %d s; results in %s", rows.size(), failed,
                TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0), DIR.resolve("results.json")));
        return failed == 0 && !rows.isEmpty() ? 0 : 1;
    }

    private static long now() {
        return System.currentTimeMillis();
    }

    private static void log(String message) {
        System.out.println("[faults] " + message);
    }
}
