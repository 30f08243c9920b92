package dev.eventline.metrics;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

import jakarta.enterprise.context.ApplicationScoped;

import dev.eventline.broker.FunctionProgress;
import dev.eventline.config.FunctionDescription;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * The pipeline's meters, all under {@code eventline.}, tagged only with low-cardinality values (function,
 * outcome; never an entity id). Each meter is built once and kept.
 */
@ApplicationScoped
public class PipelineMetrics {

    public static final String PREFIX = "eventline.";

    private final MeterRegistry registry;
    private final Map<String, Counter> counters = new ConcurrentHashMap<>();
    private final Map<String, Timer> timers = new ConcurrentHashMap<>();
    private final Map<String, java.util.Set<FunctionProgress>> progresses = new ConcurrentHashMap<>();
    private final Map<String, java.util.Map<Object, java.util.function.IntSupplier>> ownership =
            new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> gauges = new ConcurrentHashMap<>();
    private final Map<Decision, LongAdder> decisions = new ConcurrentHashMap<>();

    public PipelineMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    /**
     * {@code eventline_process_info 1}, from the start: alert rules on process-wide metrics (memory, restarts)
     * select eventline's processes by this series, whatever the scrape job is called ({@code kubernetes-pods} when
     * pods are scraped by annotation, {@code <namespace>/<name>} through a PodMonitor).
     */
    public void registerProcess() {
        Gauge.builder(PREFIX + "process.info", () -> 1).description("1 in every eventline process").register(registry);
    }

    /**
     * Registers a function's consumer meters at zero, so dashboards and alert rules find every series from
     * the start rather than after the first retry or timeout.
     */
    public void registerConsumer(FunctionDescription fn) {
        String f = fn.name();
        for (String outcome : new String[] {"success", "dead-lettered"}) {
            counter("processed.events", "events a function finished, by outcome", "events", "function", f, "outcome",
                    outcome);
        }
        counter("handler.retries", "handler calls that failed and were retried", "retries", "function", f);
        counter("handler.timeouts", "handler calls abandoned after overrunning their timeout", "timeouts", "function", f);
        counter("handler.late.completions", "abandoned handler calls that finished successfully after their timeout",
                "completions", "function", f);
        counter("duplicates.skipped", "redelivered events skipped because their id was already processed", null,
                "function", f);
        gauge("dead.letter.blocked", "partitions waiting because the dead-letter queue is full", "partitions", f);
        heldKeys(f, 0); // parked mode's, at zero in every mode: one dashboard for all
        parkedCounter(f);
        timer("handler.duration", "time of one handler call", f);
        timer("pipeline.latency", "from gate acceptance to handler completion", f);
        timer("event.delay", "from the event's own time attribute to handler completion", f);
    }

    /** Registers the gate's meters for a function it publishes to, at zero; and the function's limits. */
    public void registerGate(FunctionDescription fn) {
        String f = fn.name();
        for (String decision : new String[] {"accepted", "delayed", "throttled", "unavailable"}) {
            counter("gate.admission", "admission decisions per function of a request", "decisions", "function", f,
                    "decision", decision);
        }
        timer("gate.delay", "time requests were held while their function was over its soft limits", f);
        timer("gate.confirm", CONFIRM, f);
        for (String outcome : new String[] {"accepted", "unavailable"}) {
            counter("gate.events", GATE_EVENTS, "events", "function", f, "outcome", outcome);
        }
        for (String outcome : new String[] {"accepted", "invalid", "too-large", "unsupported", "throttled",
                "unavailable", "unauthorized", "forbidden"}) {
            counter("gate.requests", "HTTP requests answered by the gate, by outcome", "requests", "outcome", outcome);
        }
        limit("function.depth.limit", "the function's depth limits (events queued over all partitions)", "events", f,
                "soft", fn.limits().depthSoft());
        limit("function.depth.limit", "the function's depth limits (events queued over all partitions)", "events", f,
                "hard", fn.limits().depthHard());
        limit("function.lag.limit", "the function's lag limits", "seconds", f, "soft", fn.limits().lagSoftSeconds());
        limit("function.lag.limit", "the function's lag limits", "seconds", f, "hard", fn.limits().lagHardSeconds());
        limit("function.latency.target", "the queueing delay the gate aims at for the function", "milliseconds", f,
                "target", fn.limits().latencyTarget().toMillis());
        gauge("dead.letter.limit", "cap on the function's dead-letter queue (x-max-length)", "events", f)
                .set(fn.limits().deadLetterMax());
    }

    private void limit(String name, String description, String unit, String function, String level, long value) {
        gauges.computeIfAbsent(name + function + level, k -> {
            AtomicLong holder = new AtomicLong(value);
            Gauge.builder(PREFIX + name, holder, AtomicLong::get).description(description).baseUnit(unit)
                    .tag("function", function).tag("level", level).register(registry);
            return holder;
        });
    }

    /**
     * Gate requests by outcome: accepted, invalid, too-large, unsupported, throttled, unavailable,
     * unauthorized, forbidden.
     */
    public void gateRequest(String outcome) {
        counter("gate.requests", "HTTP requests answered by the gate, by outcome", "requests", "outcome", outcome).increment();
    }

    private static final String GATE_EVENTS = "events the gate accepted (broker-confirmed) or could not accept";

    /** Events the gate answered for, by function and outcome (accepted, unavailable). */
    public void gateEvents(String function, String outcome) {
        counter("gate.events", GATE_EVENTS, "events", "function", function, "outcome", outcome).increment();
    }

    /** One event finished in a function: outcome success, dead-lettered. */
    public void processed(String function, String outcome) {
        counter("processed.events", "events a function finished, by outcome", "events", "function", function, "outcome", outcome)
                .increment();
    }

    /** A failed handler call that will be tried again. */
    public void retried(String function) {
        counter("handler.retries", "handler calls that failed and were retried", "retries", "function", function).increment();
    }

    /**
     * One admission decision for one function of a request: accepted, delayed, throttled, unavailable. The metric
     * counts per function; the console's table ({@link #decisions()}) per function and producer too (producers are
     * the configured ones, so the table is bounded).
     */
    public void admission(String function, String producer, String decision) {
        counter("gate.admission", "admission decisions per function of a request", "decisions", "function", function,
                "decision", decision).increment();
        decisions.computeIfAbsent(new Decision(function, producer, decision), k -> new LongAdder()).increment();
    }

    /** One row of the gate's decisions: a function, a producer, a decision. */
    public record Decision(String function, String producer, String decision) {
    }

    /** @return how many decisions of each kind this gate made since it started, per function and producer */
    public Map<Decision, Long> decisions() {
        Map<Decision, Long> copy = new java.util.TreeMap<>(java.util.Comparator.comparing(Decision::function)
                .thenComparing(Decision::producer).thenComparing(Decision::decision));
        decisions.forEach((k, v) -> copy.put(k, v.sum()));
        return copy;
    }

    /** How long a request was held by admission control (released or throttled). */
    public void admissionDelay(String function, Duration held) {
        timer("gate.delay", "time requests were held while their function was over its soft limits", function)
                .record(held);
    }

    private static final String CONFIRM = "from the gate's publish call for a request to the broker's last confirm of "
            + "its events (requests confirmed whole)";

    /**
     * From the gate's publish call for a request (which may first wait for a free publishing channel and for
     * confirm capacity) to the broker's last confirm of its events, for a request the broker confirmed whole;
     * each function of the request is charged the request's time. Events are enqueued when confirmed, so an
     * admitted event's wait starts with this, before any queue depth or consumer lag can show it.
     */
    public void confirmTime(String function, Duration publishToConfirm) {
        timer("gate.confirm", CONFIRM, function).record(publishToConfirm);
    }

    /** A handler call that overran the function's timeout and was abandoned (counts as a failed attempt). */
    public void timedOut(String function) {
        counter("handler.timeouts", "handler calls abandoned after overrunning their timeout", "timeouts", "function",
                function).increment();
    }

    /** An abandoned call that finished successfully after all; its event is not called again. */
    public void lateCompletion(String function) {
        counter("handler.late.completions", "abandoned handler calls that finished successfully after their timeout",
                "completions", "function", function).increment();
    }

    /** An event skipped because its id was processed within the dedup window. */
    public void duplicate(String function) {
        counter("duplicates.skipped", "redelivered events skipped because their id was already processed", null,
                "function", function).increment();
    }

    /** Partitions holding an event the full dead-letter queue refused (+1 when one starts, -1 when it ends). */
    public void deadLetterBlocked(String function, int delta) {
        gauge("dead.letter.blocked", "partitions waiting because the dead-letter queue is full", "partitions",
                function).addAndGet(delta);
    }

    /** Keys held in parked mode (their later events parked) in the partitions this process owns. */
    public void heldKeys(String function, int delta) {
        gauge("held.keys", "keys whose later events are parked while an event of theirs retries or is "
                + "dead-lettered (parked mode)", "keys", function).addAndGet(delta);
    }

    /** Events moved out of a partition's window into their held key's parked queue. */
    public void parked(String function) {
        parkedCounter(function).increment();
    }

    private Counter parkedCounter(String function) {
        return counter("parked", "events parked behind a held key (parked mode)", "events", "function", function);
    }

    /** Events in the function's dead-letter queue, as last read from the broker, and its cap. */
    public void deadLetterDepth(String function, long depth, long limit) {
        gauge("dead.letter.depth", "events in the function's dead-letter queue", "events", function).set(depth);
        gauge("dead.letter.limit", "cap on the function's dead-letter queue (x-max-length)", "events", function)
                .set(limit);
    }

    /** Time of one handler call, successful or not. */
    public void handlerTime(String function, Duration duration) {
        timer("handler.duration", "time of one handler call", function).record(duration);
    }

    /** Gate acceptance to handler completion of one event. */
    public void endToEnd(String function, long acceptedAtMillis, long doneAtMillis) {
        timer("pipeline.latency", "from gate acceptance to handler completion", function)
                .record(Duration.ofMillis(Math.max(0, doneAtMillis - acceptedAtMillis)));
    }

    /** The event's own time (CloudEvents {@code time}) to handler completion. */
    public void eventDelay(String function, long eventTimeMillis, long doneAtMillis) {
        timer("event.delay", "from the event's own time attribute to handler completion", function)
                .record(Duration.ofMillis(Math.max(0, doneAtMillis - eventTimeMillis)));
    }

    /**
     * Follows a function's consumers in this process: the lag gauge is the age of the oldest unacked event
     * across them (the oldest unfinished event of the partitions this process is active on).
     */
    public void track(String function, FunctionProgress progress) {
        progresses.computeIfAbsent(function, fn -> {
            java.util.Set<FunctionProgress> set = ConcurrentHashMap.newKeySet();
            Gauge.builder(PREFIX + "consumer.lag", set, s -> s.stream()
                    .mapToDouble(p -> p.lagSeconds(System.currentTimeMillis())).max().orElse(0))
                    .description("age of the oldest event the function's consumers in this process hold unfinished")
                    .baseUnit("seconds").tag("function", fn).register(registry);
            return set;
        }).add(progress);
    }

    /** Counts the partitions an instance in this process owns, in the function's owned-partitions gauge. */
    public void trackOwnership(String function, java.util.function.IntSupplier owned) {
        ownership.computeIfAbsent(function, fn -> {
            java.util.Map<Object, java.util.function.IntSupplier> all = new ConcurrentHashMap<>();
            Gauge.builder(PREFIX + "partitions.owned", all, m -> m.values().stream()
                    .mapToInt(java.util.function.IntSupplier::getAsInt).sum())
                    .description("partitions of the function that instances in this process own")
                    .tag("function", fn).register(registry);
            return all;
        }).put(owned, owned);
    }

    public void untrackOwnership(String function, java.util.function.IntSupplier owned) {
        java.util.Map<Object, java.util.function.IntSupplier> all = ownership.get(function);
        if (all != null) {
            all.remove(owned);
        }
    }

    /** A partition changed hands: taken, or handed back. */
    public void handover(String function, String direction) {
        counter("partition.handovers", "partitions this process took or handed back", "handovers", "function",
                function, "direction", direction).increment();
    }

    public void untrack(String function, FunctionProgress progress) {
        java.util.Set<FunctionProgress> set = progresses.get(function);
        if (set != null) {
            set.remove(progress);
        }
    }

    private AtomicLong gauge(String name, String description, String unit, String function) {
        return gauges.computeIfAbsent(name + function, k -> {
            AtomicLong holder = new AtomicLong();
            Gauge.builder(PREFIX + name, holder, AtomicLong::get).description(description).baseUnit(unit)
                    .tag("function", function).register(registry);
            return holder;
        });
    }

    private Counter counter(String name, String description, String unit, String... tags) {
        return counters.computeIfAbsent(name + String.join(",", tags), k -> Counter.builder(PREFIX + name)
                .description(description).baseUnit(unit).tags(tags).register(registry));
    }

    /**
     * A timer exported as a histogram ({@code _bucket{le=…}}, Micrometer's buckets from 0.1 ms to about a minute: a
     * fast handler's calls are resolved too): quantiles are computed where the series meet, with
     * {@code histogram_quantile} over the sum of every instance's buckets. Client-side percentiles cannot be
     * aggregated across instances (a max of p99s is no p99), so none are published.
     */
    private Timer timer(String name, String description, String function) {
        return timers.computeIfAbsent(name + function, k -> Timer.builder(PREFIX + name).description(description)
                .tag("function", function).publishPercentileHistogram(true)
                .minimumExpectedValue(Duration.ofNanos(100_000)).maximumExpectedValue(Duration.ofSeconds(60))
                .register(registry));
    }
}
