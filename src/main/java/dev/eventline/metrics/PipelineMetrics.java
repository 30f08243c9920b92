package dev.eventline.metrics;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import jakarta.enterprise.context.ApplicationScoped;

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
    private final Map<String, AtomicLong> lagMillis = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> gauges = new ConcurrentHashMap<>();

    public PipelineMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    /** Gate requests by outcome: accepted, invalid, too-large, unsupported, throttled, unavailable. */
    public void gateRequest(String outcome) {
        counter("gate.requests", "HTTP requests answered by the gate, by outcome", "requests", "outcome", outcome).increment();
    }

    /** Events the gate answered for, by function and outcome (accepted, unavailable). */
    public void gateEvents(String function, String outcome) {
        counter("gate.events", "events the gate accepted (broker-confirmed) or could not accept", "events", "function", function,
                "outcome", outcome).increment();
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

    /** A handler call that overran the function's timeout and was abandoned (counts as a failed attempt). */
    public void timedOut(String function) {
        counter("handler.timeouts", "handler calls abandoned after overrunning their timeout", "calls", "function",
                function).increment();
    }

    /** An abandoned call that finished successfully after all; its event is not called again. */
    public void lateCompletion(String function) {
        counter("handler.late.completions", "abandoned handler calls that finished successfully after their timeout",
                "calls", "function", function).increment();
    }

    /** An event skipped because its id was processed within the dedup window. */
    public void duplicate(String function) {
        counter("duplicates.skipped", "redelivered events skipped because their id was already processed", "events",
                "function", function).increment();
    }

    /** Partitions holding an event the full dead-letter queue refused (+1 when one starts, -1 when it ends). */
    public void deadLetterBlocked(String function, int delta) {
        gauge("dead.letter.blocked", "partitions waiting because the dead-letter queue is full", "partitions",
                function).addAndGet(delta);
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

    /**
     * Gate acceptance to handler completion of one event; also sets the function's lag gauge (the age of the
     * event just finished).
     */
    public void endToEnd(String function, long acceptedAtMillis, long doneAtMillis) {
        long age = Math.max(0, doneAtMillis - acceptedAtMillis);
        timer("pipeline.latency", "from gate acceptance to handler completion", function)
                .record(Duration.ofMillis(age));
        lagMillis.computeIfAbsent(function, fn -> {
            AtomicLong holder = new AtomicLong();
            Gauge.builder(PREFIX + "consumer.lag", holder, h -> h.get() / 1000.0)
                    .description("age of the event a function finished last (gate acceptance to completion)")
                    .baseUnit("seconds").tag("function", fn).register(registry);
            return holder;
        }).set(age);
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

    private Timer timer(String name, String description, String function) {
        return timers.computeIfAbsent(name + function, k -> Timer.builder(PREFIX + name).description(description)
                .tag("function", function).publishPercentiles(0.5, 0.99, 0.999).publishPercentileHistogram(false)
                .register(registry));
    }
}
