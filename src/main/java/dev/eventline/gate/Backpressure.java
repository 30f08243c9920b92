package dev.eventline.gate;

import java.time.Duration;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import dev.eventline.broker.Publishing;
import dev.eventline.config.EventlineConfig;
import dev.eventline.config.FunctionDescription;
import dev.eventline.http.HttpError;
import dev.eventline.metrics.FunctionLoad;
import dev.eventline.metrics.LoadView;
import dev.eventline.metrics.PipelineMetrics;

/**
 * Admission by queueing delay, depth and lag, per target function, from its description's limits. The
 * latency target ({@code limits.latencyTargetMs}) is what admission aims at: a new event is admitted while
 * the wait it would face ({@link AdmissionLevel#admissionLag}) is under the target, and otherwise held until
 * it is, so that under a flood producers are paced at the rate the consumers drain and admitted events wait
 * about the target. The soft and hard limits on depth and lag stay as safety bounds:
 * <ul>
 * <li>below the target and both soft limits: accept;</li>
 * <li>between soft and hard: hold the request (at most {@code eventline.gate.max-delay}, at most
 * {@code eventline.gate.max-delayed} requests at once), releasing held requests in arrival order as soon as
 * the function is back under its soft limits; {@code 429} when the wait bound is hit;</li>
 * <li>while consumers report but their drain rate is not measured yet (a start, a burst after a quiet spell),
 * the fullest partition may take the cold window ({@link AdmissionLevel#coldWindow}: two windows, but at most
 * half the target of calls), and requests past it are held until the first rate is in; while the rate is only
 * what came (no backlog), two windows (as narrowed for a slow handler), past which requests are held while the
 * wait projected from the rate is over the target;</li>
 * <li>over a hard limit: {@code 429} at once;</li>
 * <li>broker blocked (resource alarm) or unreachable: {@code 503} at once.</li>
 * </ul>
 * Under pressure (over a soft limit, or requests already held for the function) a producer that took more
 * than its fair share of recent traffic gets {@code 429} at once, so one flooding producer is throttled first.
 * {@code Retry-After} is the time the measured drain rate needs to bring the function back under its soft
 * limits (at least 1 s, at most {@code eventline.gate.max-retry-after}; the maximum when nothing drains).
 */
@ApplicationScoped
public class Backpressure implements AdmissionControl {

    private static final long POLL_NANOS = Duration.ofMillis(20).toNanos();
    /** How often the longest-held request of a function looks again: the queue's drain opens room continuously. */
    private static final long HEAD_POLL_NANOS = Duration.ofMillis(2).toNanos();
    private static final int PAUSED_RETRY_SECONDS = 5;

    @Inject
    FunctionLoad load;
    @Inject
    dev.eventline.metrics.QueueMonitor monitor;
    @Inject
    Publishing publishing;
    @Inject
    EventlineConfig config;
    @Inject
    PipelineMetrics metrics;

    private final Shares shares = new Shares();
    private final Map<String, AtomicInteger> held = new ConcurrentHashMap<>();
    /** Per function, the threads of held requests in arrival order. */
    private final Map<String, Queue<Thread>> lines = new ConcurrentHashMap<>();
    private volatile Semaphore slots;

    @Override
    public void admit(String producer, Map<FunctionDescription, Integer> eventsPerFunction) {
        publishing.publisher().flatMap(p -> p.blocked()).ifPresent(alarm -> {
            eventsPerFunction.keySet().forEach(fn -> metrics.admission(fn.name(), producer, "unavailable"));
            throw new HttpError(503, "unavailable", "the broker blocks publishing (" + alarm
                    + "); nothing was published, try again later", null, null);
        });
        // shares count what producers ask for: a flood is recognised by its demand, even while it is refused
        shares.record(producer, eventsPerFunction.values().stream().mapToInt(Integer::intValue).sum(),
                System.currentTimeMillis());
        long deadline = System.nanoTime() + config.gate().maxDelay().toNanos(); // one hold bound per request
        Map<FunctionDescription, Integer> reserved = new java.util.LinkedHashMap<>();
        try {
            for (Map.Entry<FunctionDescription, Integer> e : eventsPerFunction.entrySet()) {
                admit(producer, e.getKey(), e.getValue(), deadline);
                reserved.put(e.getKey(), e.getValue());
            }
        } catch (HttpError refused) {
            released(reserved); // the request is refused as a whole: give back what it reserved
            throw refused;
        }
    }

    /**
     * Decides for one function and, when admitting, reserves the events in the function's depth at once
     * (before they are published), so that requests admitted together cannot overshoot the limits.
     */
    private void admit(String producer, FunctionDescription fn, int events, long deadline) {
        if (monitor.paused(fn.name())) {
            metrics.admission(fn.name(), producer, "unavailable");
            throw HttpError.unavailable("intake of function " + fn.name() + " is paused by an operator (e.g. while "
                    + "its partition count changes); nothing was published, retry later", PAUSED_RETRY_SECONDS);
        }
        AtomicInteger waiting = held.computeIfAbsent(fn.name(), k -> new AtomicInteger());
        synchronized (waiting) {
            LoadView view = load.view(fn);
            AdmissionLevel level = AdmissionLevel.of(fn, view);
            if (level == AdmissionLevel.HARD) {
                throw throttle(producer, fn, view, "over its hard limit");
            }
            boolean pressure = level == AdmissionLevel.SOFT || waiting.get() > 0;
            if (pressure && shares.overShare(producer, System.currentTimeMillis())) {
                throw throttle(producer, fn, view, "under pressure, and producer '" + producer
                        + "' sent more than its fair share of recent events");
            }
            if (level == AdmissionLevel.OK && waiting.get() == 0) {
                load.admitted(fn.name(), events);
                metrics.admission(fn.name(), producer, "accepted");
                return;
            }
        }
        hold(producer, fn, waiting, events, deadline);
    }

    /**
     * Holds the request until the function is back under its soft limits, in arrival order: only the
     * longest-held request of the function may be admitted, and it looks again every {@link #HEAD_POLL_NANOS}, so
     * held requests go out one after another as the queue drains, not in a burst on a shared poll (and a new
     * request does not jump ahead: it is held too while others are). The others look only at their own
     * producer's share and the wait bound. A held request whose producer comes to take more than its fair share
     * (another producer started asking) is refused rather than released.
     */
    private void hold(String producer, FunctionDescription fn, AtomicInteger waiting, int events, long deadline) {
        Semaphore s = slots();
        if (!s.tryAcquire()) {
            throw throttle(producer, fn, load.view(fn), "over its latency target or a soft limit, and "
                    + config.gate().maxDelayed() + " requests are already held (eventline.gate.max-delayed)");
        }
        long start = System.nanoTime();
        Thread me = Thread.currentThread();
        Queue<Thread> line = lines.computeIfAbsent(fn.name(), k -> new ConcurrentLinkedQueue<>());
        line.add(me);
        waiting.incrementAndGet();
        try {
            for (;;) {
                LoadView view;
                AdmissionLevel level;
                boolean first = line.peek() == me;
                synchronized (waiting) {
                    if (monitor.paused(fn.name())) {
                        metrics.admission(fn.name(), producer, "unavailable");
                        throw HttpError.unavailable("intake of function " + fn.name() + " was paused while this "
                                + "request was held; nothing was published, retry later", PAUSED_RETRY_SECONDS);
                    }
                    view = load.view(fn);
                    level = AdmissionLevel.of(fn, view);
                    if (shares.overShare(producer, System.currentTimeMillis())) {
                        metrics.admissionDelay(fn.name(), Duration.ofNanos(System.nanoTime() - start));
                        throw throttle(producer, fn, view, "under pressure, and producer '" + producer
                                + "' sent more than its fair share of recent events");
                    }
                    if (first && level == AdmissionLevel.OK) {
                        load.admitted(fn.name(), events);
                        metrics.admission(fn.name(), producer, "delayed");
                        metrics.admissionDelay(fn.name(), Duration.ofNanos(System.nanoTime() - start));
                        return;
                    }
                }
                if (level == AdmissionLevel.HARD || System.nanoTime() >= deadline) {
                    metrics.admissionDelay(fn.name(), Duration.ofNanos(System.nanoTime() - start));
                    throw throttle(producer, fn, view, level == AdmissionLevel.HARD ? "over its hard limit"
                            : "still over its latency target or soft limits after "
                                    + config.gate().maxDelay().toMillis() + " ms");
                }
                LockSupport.parkNanos(first ? HEAD_POLL_NANOS : POLL_NANOS); // the next in line is woken early
            }
        } finally {
            line.remove(me);
            Thread next = line.peek();
            if (next != null) {
                LockSupport.unpark(next);
            }
            waiting.decrementAndGet();
            s.release();
        }
    }

    @Override
    public void confirmed(Map<FunctionDescription, Integer> eventsPerFunction) {
        eventsPerFunction.forEach((fn, n) -> load.confirmed(fn.name(), n));
    }

    @Override
    public void released(Map<FunctionDescription, Integer> eventsPerFunction) {
        eventsPerFunction.forEach((fn, n) -> load.released(fn.name(), n));
    }

    private HttpError throttle(String producer, FunctionDescription fn, LoadView v, String why) {
        metrics.admission(fn.name(), producer, "throttled");
        int retryAfter = retryAfter(fn, v);
        return HttpError.throttled("function " + fn.name() + " is " + why + " (latency target "
                + fn.limits().latencyTarget().toMillis() + " ms, depth " + v.depth() + ", lag "
                + String.format("%.1f", v.lagSeconds()) + " s, draining " + String.format("%.1f", v.drainPerSecond())
                + "/s); nothing was published, retry after " + retryAfter + " s", retryAfter);
    }

    /**
     * Seconds the measured drain needs to bring depth and lag back under the soft limits; while consumers
     * report progress but no drain is measured, the age of the oldest waiting event (at least 1 s); the
     * maximum when nothing consumes the function.
     */
    int retryAfter(FunctionDescription fn, LoadView v) {
        long max = Math.max(1, config.gate().maxRetryAfter().toSeconds());
        if (v.drainPerSecond() <= 0.01) {
            // consumers report but nothing drains yet: a backlog just started (1 s), or they are stuck (as long
            // as the oldest event has waited); nobody consumes: the maximum
            return v.consuming() ? (int) Math.max(1, Math.min(max, Math.ceil(v.lagSeconds()))) : (int) max;
        }
        double excess = Math.max(0, v.depth() - 0.9 * fn.limits().depthSoft());
        double seconds = Math.max(excess / v.drainPerSecond(), Math.min(AdmissionLevel.admissionLag(v), v.lagSeconds())
                - 0.9 * Math.min(fn.limits().lagSoftSeconds(), AdmissionLevel.target(fn)));
        return (int) Math.max(1, Math.min(max, Math.ceil(seconds)));
    }

    private Semaphore slots() {
        Semaphore s = slots;
        if (s == null) {
            synchronized (this) {
                if (slots == null) {
                    slots = new Semaphore(config.gate().maxDelayed());
                }
                s = slots;
            }
        }
        return s;
    }
}
