package dev.eventline.trigger;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.IntSupplier;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.ObjectMapper;

import dev.eventline.broker.Broker;
import dev.eventline.broker.EventCodec;
import dev.eventline.broker.FunctionProgress;
import dev.eventline.config.FunctionDescription;
import dev.eventline.fault.Dedup;
import dev.eventline.metrics.PipelineMetrics;
import dev.eventline.topology.Names;
import dev.eventline.util.Daemons;

/**
 * One function's instance in this process. It consumes only the partitions it owns, and owns its fair
 * share of them: with N instances running the function (known from their progress reports) and P
 * partitions, the instances, sorted by name, own P / N each and the first P mod N one more. Every interval
 * an instance over its share hands partitions back and an instance under its share takes free ones, so
 * instances converge on an even split as they come and go, with no configured identities or counts.
 * <p>
 * Owning partition i means holding its lock, an exclusive queue {@code <fn>-<i>.owner}, on the same
 * connection as the partition's consumer ({@link ConsumerSession}): the broker refuses the lock to anyone
 * else and drops it with that connection (crash, kill -9, lost network, broker restart), together with the
 * consumer. Nothing is recovered in place: when the session is lost, this instance forgets every partition
 * at once and, on its next tick, opens a new session and takes its share again, from free locks, like a
 * newcomer. So after any fault each owned partition has exactly one consumer, the one that holds its lock.
 * Partitions are taken and handed back in order by {@link OwnedPartitions}, which also takes anew those that
 * stopped draining; the partition queues keep single active consumer as a second guard. Progress goes out
 * through {@link ProgressReporter}.
 */
final class FunctionConsumers {

    private static final Logger LOG = Logger.getLogger(FunctionConsumers.class);

    private final FunctionDescription fn;
    private final String instance;
    private final Broker broker;
    private final Names names;
    private final Membership membership;
    private final PipelineMetrics metrics;
    private final ExecutorService pool;
    private final HandlerCalls calls;
    private final Duration interval;
    private final FunctionProgress progress = new FunctionProgress();
    private final OwnedPartitions owned;
    private final ProgressReporter reporter;
    /** Rebalancing waits for calls in progress: a thread of its own, not the shared report scheduler. */
    private final ScheduledExecutorService balancer;
    /** Sends the partitions' batched acks that no later event carried out (PartitionAcks.ACK_DELAY). */
    private final ScheduledExecutorService acks;
    /** With key concurrency, each event goes through its call on one of these. */
    private final ExecutorService workers;
    private final IntSupplier ownedGauge;
    private ConsumerSession session;
    private long sessionLostAt;
    private ScheduledFuture<?> reports;
    private ScheduledFuture<?> balancing;
    private volatile boolean stopping;

    private FunctionConsumers(FunctionDescription fn, String instance, Broker broker, Names names,
            Membership membership, FunctionInvokers invokers, PipelineMetrics metrics, ObjectMapper json,
            EventCodec codec, Duration interval) {
        this.fn = fn;
        this.instance = instance;
        this.broker = broker;
        this.names = names;
        this.membership = membership;
        this.metrics = metrics;
        this.interval = interval;
        this.pool = Executors.newFixedThreadPool(fn.concurrency(), Daemons.named("eventline-" + fn.name()));
        Dedup dedup = new Dedup(fn.dedup());
        this.calls = new HandlerCalls(fn.name(),
                fn.keyed() ? fn.partitions() * fn.keyConcurrency() : fn.concurrency(), fn.keyed(), dedup, metrics);
        this.workers = Executors.newCachedThreadPool(Daemons.named("eventline-" + fn.name() + "-keys"));
        this.balancer = Daemons.scheduler("eventline-balance-" + fn.name());
        this.acks = Daemons.scheduler("eventline-acks-" + fn.name());
        this.owned = new OwnedPartitions(fn, instance, names, new FunctionHandling(invokers, calls, dedup,
                new AttemptLog(), metrics, json, codec, progress, acks, workers), interval);
        this.ownedGauge = owned::count;
        this.reporter = new ProgressReporter(fn, instance, names, json, progress, owned::indexes);
    }

    static FunctionConsumers start(Broker broker, String instance, FunctionDescription fn, Names names,
            FunctionInvokers invokers, PipelineMetrics metrics, ObjectMapper json, EventCodec codec,
            ScheduledExecutorService scheduler, Duration every, Membership membership)
            throws IOException, TimeoutException {
        FunctionConsumers started = new FunctionConsumers(fn, instance, broker, names, membership, invokers, metrics,
                json, codec, every);
        metrics.registerConsumer(fn);
        metrics.track(fn.name(), started.progress);
        metrics.trackOwnership(fn.name(), started.ownedGauge);
        try {
            synchronized (started) {
                started.rebalance(); // alone as far as it knows yet: takes every free partition at once
            }
            started.reports = scheduler.scheduleAtFixedRate(started.reporter::report, 0, every.toMillis(),
                    TimeUnit.MILLISECONDS);
            started.balancing = started.balancer.scheduleWithFixedDelay(started::rebalanceSafely, every.toMillis(),
                    every.toMillis(), TimeUnit.MILLISECONDS);
        } catch (IOException | TimeoutException | RuntimeException e) {
            started.stop(Duration.ZERO);
            throw e;
        }
        LOG.infof("function %s instance %s: owns %d of %d partitions, %d delivery threads, %d calls at once per "
                + "partition", fn.name(), instance, started.ownedCount(), fn.partitions(), fn.concurrency(),
                fn.keyConcurrency());
        return started;
    }

    /** Whether this instance is connected (false from a lost connection until the next session is open). */
    boolean isOpen() {
        return reporter.connected();
    }

    /** Lock-free: progress reports must not wait behind a hand-over that waits for a slow call. */
    int ownedCount() {
        return owned.count();
    }

    List<Integer> ownedPartitions() {
        return owned.partitions();
    }

    /** @return partition queue → what was seen, for partitions that hold events and do not drain */
    Map<String, String> stalled() {
        return owned.stalled();
    }

    FunctionDescription description() {
        return fn;
    }

    private void rebalanceSafely() {
        try {
            synchronized (this) {
                if (!stopping) {
                    rebalance();
                }
            }
        } catch (IOException | TimeoutException | RuntimeException e) {
            LOG.debugf("function %s instance %s: rebalancing failed: %s", fn.name(), instance, Broker.reason(e));
        }
    }

    /** Moves this instance toward its fair share: hands partitions back over it, takes free ones under it. */
    private void rebalance() throws IOException, TimeoutException {
        if (session == null || !session.isOpen()) {
            if (session != null) {
                forget("its connection to the broker was lost");
            }
            if (!connect()) {
                return;
            }
        }
        owned.dropGone(session);
        owned.checkDraining(session);
        List<String> members = membership.members(fn.name(), instance);
        int n = members.size();
        int rank = members.indexOf(instance);
        int p = fn.partitions();
        int share = p / n + (rank < p % n ? 1 : 0);
        while (owned.count() > share) {
            owned.handBack(session, owned.last());
        }
        for (int k = 0; k < p && owned.count() < share; k++) {
            int partition = (rank * p / n + k) % p; // start where this rank's share would lie: fewer collisions
            if (!owned.owns(partition)) {
                owned.take(session, partition);
            }
        }
    }

    /** Opens a new session; @return false when the broker cannot be reached yet (the next tick tries again) */
    private boolean connect() {
        try {
            session = ConsumerSession.open(broker, fn, names, instance, pool, this::lost);
        } catch (IOException | TimeoutException | RuntimeException e) {
            if (sessionLostAt == 0) {
                sessionLostAt = System.nanoTime();
                LOG.warnf("function %s instance %s: cannot connect to the broker (%s); trying every %s", fn.name(),
                        instance, Broker.reason(e), interval);
            } else {
                LOG.debugf("function %s instance %s: still cannot connect: %s", fn.name(), instance, Broker.reason(e));
            }
            return false;
        }
        if (sessionLostAt != 0) {
            LOG.infof("function %s instance %s: connected again after %d ms", fn.name(), instance,
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sessionLostAt));
            sessionLostAt = 0;
        }
        reporter.on(session);
        return true;
    }

    /** A connection of the session ended (client thread): forget it at once, reconnect on the balancer. */
    private void lost() {
        try {
            if (!stopping) {
                balancer.execute(this::rebalanceSafely);
            }
        } catch (RejectedExecutionException stoppedMeanwhile) {
            // stopping: nothing to rebuild
        }
    }

    /**
     * The session is gone, and with it every lock and consumer: stop the consumers without waiting (their
     * calls finish on their own and cannot ack; the partition's handling lock keeps the next consumer behind
     * them) and forget the partitions.
     */
    private void forget(String why) {
        sessionLostAt = System.nanoTime();
        int forgotten = owned.forget();
        LOG.warnf("function %s instance %s: %s; dropped %d partitions, taking them anew once connected",
                fn.name(), instance, why, forgotten);
        if (forgotten > 0) {
            metrics.handover(fn.name(), "lost");
        }
        session.abort();
        session = null;
        reporter.on(null);
    }

    /**
     * Hands every partition back (calls in progress finish and ack, bounded by {@code wait}), tells the
     * other instances it is leaving, and closes its connections.
     */
    void stop(Duration wait) {
        stopping = true;
        endSchedules();
        synchronized (this) {
            owned.stopAll(System.nanoTime() + wait.toNanos());
            if (session != null) {
                reporter.leaving();
                session.close(); // releases every lock held
                session = null;
            }
            reporter.on(null);
        }
        pool.shutdownNow();
        workers.shutdownNow();
        calls.shutdown();
        acks.shutdown();
    }

    private void endSchedules() {
        if (reports != null) {
            reports.cancel(false);
        }
        if (balancing != null) {
            balancing.cancel(false);
        }
        balancer.shutdown();
        metrics.untrack(fn.name(), progress);
        metrics.untrackOwnership(fn.name(), ownedGauge);
    }
}
