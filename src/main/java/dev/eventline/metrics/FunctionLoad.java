package dev.eventline.metrics;

import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.Connection;

import dev.eventline.broker.Broker;
import dev.eventline.broker.ProgressReport;
import dev.eventline.broker.StatusExchange;
import dev.eventline.config.EventlineConfig;
import dev.eventline.config.FunctionCatalog;
import dev.eventline.config.FunctionDescription;
import dev.eventline.topology.Names;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * The gate's view of each function's load: depth (the monitor's last reading, plus what this gate admitted
 * since, minus what the consumers drained since at their measured rate), drain rate (events per second its
 * consumers take off their partitions, summed over the processes reporting on the status exchange), and lag:
 * the age of the oldest unprocessed event. A partition hands out its head first into its consumer's window, so
 * that is the oldest unacked event a consumer reports; for events that wait while nothing drains (no consumer
 * at all), it is how long that has lasted. No broker call happens per request.
 */
@ApplicationScoped
public class FunctionLoad {

    /**
     * The fewest events a partition's window counts as while its consumer's rate is unknown (admission's cold
     * window; a backlog below half of it is light traffic caught between deliveries, not a backlog).
     */
    public static final int MIN_COLD_WINDOW = 32;

    private static final Logger LOG = Logger.getLogger(FunctionLoad.class);

    @Inject
    QueueMonitor monitor;
    @Inject
    FunctionCatalog catalog;
    @Inject
    Names names;
    @Inject
    EventlineConfig config;
    @Inject
    ObjectMapper json;
    @Inject
    MeterRegistry registry;
    @Inject
    ReportBook book;

    private final Map<String, Map<String, Rate>> rates = new ConcurrentHashMap<>();
    /** Events admitted and not yet confirmed or refused by the broker (they may not be in any reading yet). */
    private final Map<String, AtomicLong> inFlight = new ConcurrentHashMap<>();
    /** Events confirmed since the last depth reading began. */
    private final Map<String, AtomicLong> confirmedSinceReading = new ConcurrentHashMap<>();
    private final Map<String, Long> stalledSince = new ConcurrentHashMap<>();
    private Connection connection;
    private boolean gaugesRegistered;
    /** When this gate began to listen: until it has heard for a while, silence does not mean "no consumer". */
    private volatile long listeningSince = System.nanoTime();

    /** One process's reports on one function, smoothed. */
    private static final class Rate {
        long completed = -1;
        long at;
        double perSecond;
        long oldestInHand;
        int window;
        long callMicros;
        long receivedAtNanos;
        /** This gate's clock when the report came (the acceptance times in it are this gate's clock too). */
        long receivedAtMillis;
    }

    /** Starts reading the status exchange and exporting the gate's view (once the broker is reachable). */
    public synchronized void start(Broker broker, String instance) throws IOException, TimeoutException {
        if (connection != null) {
            return; // the client's automatic recovery restores it, with its queue, binding and consumer
        }
        connection = broker.open("eventline-load@" + instance);
        listeningSince = System.nanoTime();
        try {
            StatusExchange.subscribe(connection, names.statusExchange(), json, this::report);
        } catch (IOException e) {
            LOG.warnf("cannot read progress reports from %s (%s): admission uses depth alone", names.statusExchange(),
                    Broker.reason(e));
        }
        if (gaugesRegistered) {
            return;
        }
        gaugesRegistered = true;
        for (FunctionDescription fn : catalog.all()) {
            String name = fn.name();
            monitor.onReading(name, () -> {
                counter(confirmedSinceReading, name).set(0);
                trackStall(fn);
            });
            Gauge.builder(PipelineMetrics.PREFIX + "function.lag", () -> view(fn).lagSeconds())
                    .description("the gate's estimate of the function's lag: oldest event in hand, time to drain "
                            + "the queued events, or time nothing drained while events waited")
                    .baseUnit("seconds").tag("function", name).register(registry);
            Gauge.builder(PipelineMetrics.PREFIX + "function.drain.rate", () -> view(fn).drainPerSecond())
                    .description("events per second the function's consumers take off their partitions (all processes)")
                    .baseUnit("events.per.second").tag("function", name).register(registry);
        }
    }

    void report(ProgressReport r) {
        if (catalog.byName(r.function()).isEmpty()) {
            return; // not a function this gate knows
        }
        book.put(r);
        if (r.leaving()) {
            rates.getOrDefault(r.function(), Map.of()).remove(r.instance());
            return;
        }
        Rate rate = rates.computeIfAbsent(r.function(), k -> new ConcurrentHashMap<>())
                .computeIfAbsent(r.instance(), k -> new Rate());
        synchronized (rate) {
            if (rate.completed >= 0 && r.at() > rate.at && r.completed() >= rate.completed) {
                double now = (r.completed() - rate.completed) * 1000.0 / (r.at() - rate.at);
                if (now == 0 && r.oldestInHand() == 0) {
                    // idle: nothing done and nothing in hand. What the consumers can take is not measured by
                    // that; a rate halving on every idle report read 0.02/s after a quiet spell, and the next
                    // burst's projected wait was hours (AdmissionLevel's cold window judges it instead)
                    rate.perSecond = 0;
                } else {
                    // smoothed: on a shared machine the rate swings with the gate's own load (the consumers get
                    // more CPU while producers are held)
                    rate.perSecond = rate.perSecond == 0 ? now : 0.5 * rate.perSecond + 0.5 * now;
                }
            }
            rate.completed = r.completed();
            rate.at = r.at();
            rate.oldestInHand = r.oldestInHand();
            rate.window = r.window();
            rate.callMicros = r.callMicros();
            rate.receivedAtNanos = System.nanoTime();
            rate.receivedAtMillis = System.currentTimeMillis();
        }
    }

    /** After each depth reading: when did events last wait with nothing draining them? */
    private void trackStall(FunctionDescription fn) {
        long depth = monitor.depth(fn.name()).map(QueueMonitor.Depth::total).orElse(0L);
        if (depth > 0 && drain(fn.name(), System.nanoTime()) <= 0.01) {
            stalledSince.putIfAbsent(fn.name(), System.nanoTime());
        } else {
            stalledSince.remove(fn.name());
        }
    }

    /** @return how recent a process's report must be to count: three monitor intervals and 1 s, ns */
    public long freshNanos() {
        return 3 * config.monitor().interval().toNanos() + Duration.ofSeconds(1).toNanos();
    }

    /**
     * @return whether there is no depth reading, or none for ten monitor intervals and 5 s (the broker cannot be
     *         read): too old to act on
     */
    public boolean stale(Optional<QueueMonitor.Depth> reading) {
        long staleAfter = 10 * config.monitor().interval().toNanos() + Duration.ofSeconds(5).toNanos();
        return reading.isEmpty() || System.nanoTime() - reading.get().readAtNanos() > staleAfter;
    }

    private double drain(String function, long nowNanos) {
        long fresh = freshNanos();
        double drain = 0;
        Map<String, Rate> instances = rates.getOrDefault(function, Map.of());
        for (Rate r : instances.values()) {
            synchronized (r) {
                if (nowNanos - r.receivedAtNanos <= fresh) {
                    drain += r.perSecond;
                }
            }
        }
        // processes that stopped reporting long ago are forgotten (restarts make new instance names)
        instances.values().removeIf(r -> nowNanos - r.receivedAtNanos > 20 * fresh);
        return drain;
    }

    /** Events admitted: counted in the depth until the broker confirms or refuses them. */
    public void admitted(String function, int events) {
        counter(inFlight, function).addAndGet(events);
    }

    /** Admitted events the broker confirmed: they stay in the depth until the next reading counts them. */
    public void confirmed(String function, int events) {
        counter(inFlight, function).addAndGet(-events);
        counter(confirmedSinceReading, function).addAndGet(events);
    }

    /** Admitted events that were not published or not confirmed. */
    public void released(String function, int events) {
        counter(inFlight, function).addAndGet(-events);
    }

    private static AtomicLong counter(Map<String, AtomicLong> map, String function) {
        return map.computeIfAbsent(function, k -> new AtomicLong());
    }

    public LoadView view(FunctionDescription fn) {
        Optional<QueueMonitor.Depth> reading = monitor.depth(fn.name());
        if (stale(reading)) {
            // no reading, or none for a while (the broker cannot be read): no basis for refusing; the
            // partitions' own length cap still holds
            return new LoadView(0, 0, 0, false, 0, false, false);
        }
        long fresh = freshNanos();
        long nowNanos = System.nanoTime();
        double drain = drain(fn.name(), nowNanos);
        // since the reading: plus what this gate added, minus what the consumers took at their measured rate
        // (without the latter the estimate grows by a whole interval's drain before each reading, and a latency
        // target of a fraction of a second would be crossed on every interval: a sawtooth)
        long drained = (long) (drain * Math.max(0, nowNanos - reading.get().readAtNanos()) / 1e9);
        long added = Math.max(0, counter(confirmedSinceReading, fn.name()).get());
        long publishing = Math.max(0, counter(inFlight, fn.name()).get());
        long depth = Math.max(0, reading.get().total() + added - drained) + publishing;
        int p = fn.partitions();
        Windows windows = windows(fn, nowNanos, fresh);
        int window = windows.events();
        // the fullest partition gets at least its share of what came since, and drains at a partition's share;
        // while it has events ready its consumer's window is full too: those wait ahead of a new event as well
        long hot = Math.max(0, reading.get().hottest() + (added - drained) / p) + (publishing + p - 1) / p;
        long hottest = p * (hot + (reading.get().hottest() > 0 ? window : 0));
        long nowMillis = System.currentTimeMillis();
        long halfTargetMillis = fn.limits().latencyTarget().toMillis() / 2;
        double inHand = 0;
        boolean reporting = false;
        boolean consuming = false;
        // a process that reported within this long is taken as still consuming, even if its latest reports
        // are late (a busy machine); only fresh reports count for the drain rate and the lag
        long alive = Math.max(fresh, Duration.ofSeconds(30).toNanos());
        consuming = nowNanos - listeningSince <= alive;
        for (Rate r : rates.getOrDefault(fn.name(), Map.of()).values()) {
            synchronized (r) {
                long age = nowNanos - r.receivedAtNanos;
                consuming |= age <= alive;
                reporting |= age <= fresh;
                if (age <= fresh && r.oldestInHand > 0) {
                    // an event that had waited half the target when reported is taken to wait on (the age grows
                    // to now: admission stops before the next report, however many come meanwhile); a younger
                    // one, a light flow's, is taken as done (grown on, such a flow's lag read up to one interval
                    // too high, and a target of 100 ms was crossed by that alone)
                    long reported = Math.max(0, r.receivedAtMillis - r.oldestInHand);
                    long grown = reported >= halfTargetMillis ? nowMillis - r.oldestInHand : reported;
                    inHand = Math.max(inHand, grown / 1000.0);
                }
            }
        }
        Long stalled = stalledSince.get(fn.name());
        long fullest = Math.max(depth, hottest);
        // nothing in hand while a partition had more than a window of events ready (a full window, and a backlog
        // behind it): the consumers are between windows, or the broker hands out events more slowly than they are
        // taken (a busy broker); the oldest waits at the head of its queue, unseen by any consumer, for about the
        // time its partition needs to drain. (Nothing in hand and a few events ready is light traffic caught
        // between two deliveries: lag 0, however low the drain rate that traffic gave.)
        // (at least half the cold window: with a window of 1, one event caught ready is no backlog)
        boolean backlog = reading.get().hottest() >= Math.max(window, MIN_COLD_WINDOW / 2);
        double queued = inHand == 0 && backlog && drain > 0.01 ? fullest / drain : 0;
        double lag = Math.max(Math.max(inHand, queued), stalled == null ? 0 : (nowNanos - stalled) / 1e9);
        return new LoadView(depth, drain, lag, consuming, fullest, reporting, backlog, windows.callSeconds(),
                windows.reported());
    }

    /**
     * What the consumers that reported recently say of their partitions: the largest window (events a
     * partition's consumer takes ahead of its call; its adaptive window keeps a slow handler's to a share of the
     * target), {@code prefetch} when none said; the longest time per event, seconds, 0 when none said; and the
     * largest window as reported, 0 when none said (a narrowed window, below {@code prefetch}, tells admission
     * the handler is slow).
     */
    private record Windows(int events, double callSeconds, int reported) {
    }

    private Windows windows(FunctionDescription fn, long nowNanos, long fresh) {
        int window = 0;
        long micros = 0;
        for (Rate r : rates.getOrDefault(fn.name(), Map.of()).values()) {
            synchronized (r) {
                if (nowNanos - r.receivedAtNanos <= fresh) {
                    window = Math.max(window, r.window);
                    micros = Math.max(micros, r.callMicros);
                }
            }
        }
        return new Windows(window > 0 ? Math.min(window, fn.prefetch()) : fn.prefetch(), micros / 1e6,
                Math.min(window, fn.prefetch()));
    }

    /** @return whether a process reported (recently) that it holds an event of the function in hand */
    public boolean anyInHand(String function) {
        long fresh = freshNanos();
        long now = System.nanoTime();
        for (Rate r : rates.getOrDefault(function, Map.of()).values()) {
            synchronized (r) {
                if (now - r.receivedAtNanos <= fresh && r.oldestInHand > 0) {
                    return true;
                }
            }
        }
        return false;
    }

    public synchronized void close() {
        if (connection != null) {
            connection.abort();
            connection = null;
        }
    }
}
