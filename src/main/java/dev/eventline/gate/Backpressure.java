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
 * the wait it would face ({@link #admissionLag}) is under the target, and otherwise held until it is, so that
 * under a flood producers are paced at the rate the consumers drain and admitted events wait about the
 * target. The soft and hard limits on depth and lag stay as safety bounds:
 * <ul>
 * <li>below the target and both soft limits: accept;</li>
 * <li>between soft and hard: hold the request (at most {@code eventline.gate.max-delay}, at most
 * {@code eventline.gate.max-delayed} requests at once), releasing held requests in arrival order as soon as
 * the function is back under its soft limits; {@code 429} when the wait bound is hit;</li>
 * <li>while consumers report but their drain rate is not measured yet (a start, a burst after a quiet spell),
 * the fullest partition may take the cold window ({@link #coldWindow}: two windows, but at most half the target
 * of calls), and requests past it are held until the first rate is in; while the rate is only what came (no
 * backlog), two windows (as narrowed for a slow handler), past which requests are held while the wait
 * projected from the rate is over the target;</li>
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

    enum Level { OK, SOFT, HARD }

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
            eventsPerFunction.keySet().forEach(fn -> metrics.admission(fn.name(), "unavailable"));
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
            metrics.admission(fn.name(), "unavailable");
            throw HttpError.unavailable("intake of function " + fn.name() + " is paused by an operator (e.g. while "
                    + "its partition count changes); nothing was published, retry later", PAUSED_RETRY_SECONDS);
        }
        AtomicInteger waiting = held.computeIfAbsent(fn.name(), k -> new AtomicInteger());
        synchronized (waiting) {
            LoadView view = load.view(fn);
            Level level = level(fn, view);
            if (level == Level.HARD) {
                throw throttle(fn, view, "over its hard limit");
            }
            boolean pressure = level == Level.SOFT || waiting.get() > 0;
            if (pressure && shares.overShare(producer, System.currentTimeMillis())) {
                throw throttle(fn, view, "under pressure, and producer '" + producer
                        + "' sent more than its fair share of recent events");
            }
            if (level == Level.OK && waiting.get() == 0) {
                load.admitted(fn.name(), events);
                metrics.admission(fn.name(), "accepted");
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
            throw throttle(fn, load.view(fn), "over its latency target or a soft limit, and "
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
                Level level;
                boolean first = line.peek() == me;
                synchronized (waiting) {
                    if (monitor.paused(fn.name())) {
                        metrics.admission(fn.name(), "unavailable");
                        throw HttpError.unavailable("intake of function " + fn.name() + " was paused while this "
                                + "request was held; nothing was published, retry later", PAUSED_RETRY_SECONDS);
                    }
                    view = load.view(fn);
                    level = level(fn, view);
                    if (shares.overShare(producer, System.currentTimeMillis())) {
                        metrics.admissionDelay(fn.name(), Duration.ofNanos(System.nanoTime() - start));
                        throw throttle(fn, view, "under pressure, and producer '" + producer
                                + "' sent more than its fair share of recent events");
                    }
                    if (first && level == Level.OK) {
                        load.admitted(fn.name(), events);
                        metrics.admission(fn.name(), "delayed");
                        metrics.admissionDelay(fn.name(), Duration.ofNanos(System.nanoTime() - start));
                        return;
                    }
                }
                if (level == Level.HARD || System.nanoTime() >= deadline) {
                    metrics.admissionDelay(fn.name(), Duration.ofNanos(System.nanoTime() - start));
                    throw throttle(fn, view, level == Level.HARD ? "over its hard limit"
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

    static Level level(FunctionDescription fn, LoadView v) {
        FunctionDescription.Limits l = fn.limits();
        double lag = admissionLag(v);
        // refused at once only on a lag also seen (the age in hand, or how long nothing drained), never on a wait
        // projected from a rate alone: a rate caught low (a consumer's pause) would otherwise answer 429 with the
        // longest Retry-After
        if (v.depth() >= l.depthHard() || Math.min(lag, v.lagSeconds()) >= l.lagHardSeconds()) {
            return Level.HARD;
        }
        if (v.depth() >= l.depthSoft() || lag >= Math.min(l.lagSoftSeconds(), target(fn))) {
            return Level.SOFT;
        }
        boolean unmeasured = v.drainPerSecond() <= 0.01;
        long window = unmeasured ? coldWindow(fn, v) : twoWindows(fn, v);
        if (v.reporting() && v.hottest() >= (long) fn.partitions() * window
                && (unmeasured || v.hottest() / v.drainPerSecond() >= target(fn))) {
            // consumers are there but what they can take is not known: their rate is not measured yet (a start, a
            // burst after a quiet spell), or it is only what came (no backlog: they kept up, and the age in hand
            // judged above is young). Past two windows in the fullest partition, a wait projected from that rate
            // counts after all (without this, a flood's first second was let in whole, and a flood that began
            // between two readings of an empty queue went in until the next one). The time per event bounds only
            // the start: with a rate measured, a light flow's few events would be held on a projection from it
            return Level.SOFT;
        }
        return Level.OK;
    }

    /**
     * Events the fullest partition may hold while what its consumer can take is not known: two windows, and at
     * least {@link FunctionLoad#MIN_COLD_WINDOW} (a window of 1 or 2 would hold every start to a few events); but no more
     * than half the latency target of calls at the time per event its consumers report (they measure it from
     * their first event on). Two windows of a 5 ms handler, 64 events, were 430 ms: a flood's first second went
     * past twice the target before the first drain rate came in. (The call time alone does not bound a fast
     * handler: the broker's deliveries, not the call, then set the pace.)
     */
    static long coldWindow(FunctionDescription fn, LoadView v) {
        long windows = twoWindows(fn, v);
        if (v.callSeconds() > 0) {
            return Math.min(windows, Math.max(2, (long) (target(fn) / 2 / v.callSeconds())));
        }
        return windows;
    }

    /**
     * Two windows of the fullest partition's consumer, at least {@link FunctionLoad#MIN_COLD_WINDOW}; but a window its
     * consumer narrowed for a slow handler (to a quarter of the target of calls, see {@code AckWindow}) counts
     * as it is, without that floor: two of them are half the target of calls, where 32 events of a 5 ms
     * handler were 160 ms and let a flood's held requests in together.
     */
    private static long twoWindows(FunctionDescription fn, LoadView v) {
        if (v.window() > 0 && v.window() < fn.prefetch()) {
            return 2L * v.window();
        }
        return Math.max(FunctionLoad.MIN_COLD_WINDOW, 2 * fn.prefetch());
    }

    /** @return the function's latency target, seconds */
    private static double target(FunctionDescription fn) {
        return fn.limits().latencyTarget().toNanos() / 1e9;
    }

    /**
     * The lag admission judges: the wait a new event faces at the measured drain rate in the fullest partition
     * (its depth × P ÷ drain: each partition drains about 1/P of the rate, and a hot key's partition is where
     * events wait longest; the average, depth ÷ drain, let a hot partition's events wait seconds while the
     * others were empty).
     * <ul>
     * <li>With a backlog (a partition has a full window and events ready behind it), that projected wait
     * alone: the consumers take all they can, so the drain rate is their capacity. The age of the oldest event
     * in hand is no guide then: a report taken between two windows, or while a busy broker was slow to hand
     * out events, said "nothing in hand", and the age that made let a flood in every other reading.</li>
     * <li>Without one, the smaller of the two: the consumers keep up, so the drain rate is only what came, and
     * the projected wait of a burst from it overreacts (a light flow's 90 events "waited" half a second at its
     * 90 events/s); the age of the oldest event in hand says how long events really wait (as of its report;
     * one that had waited half the target by then is taken to wait on, see {@link FunctionLoad#view}). Past two
     * windows in the fullest partition the projection counts again ({@link #level}).</li>
     * <li>When nothing drains, the age.</li>
     * </ul>
     */
    static double admissionLag(LoadView v) {
        if (v.drainPerSecond() <= 0.01) {
            return v.lagSeconds();
        }
        double projected = v.hottest() / v.drainPerSecond();
        return v.backlog() ? projected : Math.min(v.lagSeconds(), projected);
    }

    private HttpError throttle(FunctionDescription fn, LoadView v, String why) {
        metrics.admission(fn.name(), "throttled");
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
        double seconds = Math.max(excess / v.drainPerSecond(), Math.min(admissionLag(v), v.lagSeconds())
                - 0.9 * Math.min(fn.limits().lagSoftSeconds(), target(fn)));
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
