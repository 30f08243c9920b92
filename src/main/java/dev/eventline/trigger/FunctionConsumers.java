package dev.eventline.trigger;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;

import dev.eventline.broker.Broker;
import dev.eventline.broker.EventCodec;
import dev.eventline.broker.FunctionProgress;
import dev.eventline.broker.ProgressReport;
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
 * A partition is handed back in order: consuming stops, the call in progress finishes, every settled event is
 * acked, the channel closes (the rest of its window returns to the head of the queue, in order), and only then
 * is the lock released. The
 * partition queues keep single active consumer as a second guard.
 * <p>
 * Every tick also checks that each owned partition drains: one whose consumer has held nothing for
 * {@link #stallAfter()} while the queue has events ready (a consumer the broker no longer feeds) is reported
 * as stalled (readiness) and taken anew.
 */
final class FunctionConsumers {

    private static final Logger LOG = Logger.getLogger(FunctionConsumers.class);

    private final FunctionDescription fn;
    private final String instance;
    private final Broker broker;
    private final Names names;
    private final Membership membership;
    private final ExecutorService pool;
    private final HandlerCalls calls;
    private final Dedup dedup;
    private final AttemptLog attemptLog = new AttemptLog();
    private final FunctionInvokers invokers;
    private final PipelineMetrics metrics;
    private final ObjectMapper json;
    private final EventCodec codec;
    private final Duration interval;
    private final FunctionProgress progress = new FunctionProgress();
    private final TreeMap<Integer, PartitionConsumer> owned = new TreeMap<>();
    /** One per partition, for good: handling never overlaps across consumers of the same partition. */
    private final Map<Integer, ReentrantLock> handling = new ConcurrentHashMap<>();
    /** Partitions seen stalled, until they drain again (readiness). */
    private final Map<Integer, Stall> stalled = new ConcurrentHashMap<>();

    /** What the stall check saw: the queue, in words, and when (nanoTime). */
    private record Stall(String queue, String seen, long at) {
    }
    /** Rebalancing waits for calls in progress: a thread of its own, not the shared report scheduler. */
    private final ScheduledExecutorService balancer;
    /** Sends the partitions' batched acks that no later event carried out (PartitionConsumer.ACK_DELAY). */
    private final ScheduledExecutorService acks;
    private ConsumerSession session;
    private volatile ConsumerSession reporting;
    private long sessionLostAt;
    private ScheduledFuture<?> reports;
    private ScheduledFuture<?> balancing;
    private volatile boolean stopping;
    private volatile int ownedNow;
    private final java.util.function.IntSupplier ownedGauge = this::ownedCount;

    private FunctionConsumers(FunctionDescription fn, String instance, Broker broker, Names names,
            Membership membership, FunctionInvokers invokers, PipelineMetrics metrics, ObjectMapper json,
            EventCodec codec, Duration interval) {
        this.fn = fn;
        this.instance = instance;
        this.broker = broker;
        this.names = names;
        this.membership = membership;
        this.invokers = invokers;
        this.metrics = metrics;
        this.json = json;
        this.codec = codec;
        this.interval = interval;
        this.pool = Executors.newFixedThreadPool(fn.concurrency(), Daemons.named("eventline-" + fn.name()));
        this.dedup = new Dedup(fn.dedup());
        this.calls = new HandlerCalls(fn.name(), fn.concurrency(), dedup, metrics);
        this.balancer = Daemons.scheduler("eventline-balance-" + fn.name());
        this.acks = Daemons.scheduler("eventline-acks-" + fn.name());
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
            started.reports = scheduler.scheduleAtFixedRate(() -> started.report(false), 0, every.toMillis(),
                    TimeUnit.MILLISECONDS);
            started.balancing = started.balancer.scheduleWithFixedDelay(started::rebalanceSafely, every.toMillis(),
                    every.toMillis(), TimeUnit.MILLISECONDS);
        } catch (IOException | TimeoutException | RuntimeException e) {
            started.stop(Duration.ZERO);
            throw e;
        }
        LOG.infof("function %s instance %s: owns %d of %d partitions, %d delivery threads", fn.name(), instance,
                started.ownedCount(), fn.partitions(), fn.concurrency());
        return started;
    }

    /** Whether this instance is connected (false from a lost connection until the next session is open). */
    boolean isOpen() {
        ConsumerSession s = reporting;
        return s != null && s.isOpen();
    }

    /** Lock-free: progress reports must not wait behind a hand-over that waits for a slow call. */
    int ownedCount() {
        return ownedNow;
    }

    synchronized List<Integer> ownedPartitions() {
        return List.copyOf(owned.keySet());
    }

    /** @return partition queue → what was seen, for partitions that hold events and do not drain */
    Map<String, String> stalled() {
        Map<String, String> all = new TreeMap<>();
        stalled.values().forEach(st -> all.put(st.queue(), st.seen()));
        return all;
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
        for (Integer p : List.copyOf(owned.keySet())) {
            PartitionConsumer c = owned.get(p);
            if (c.cancelledByBroker() || !c.getChannel().isOpen()) {
                LOG.warnf("function %s instance %s: the consumer of partition %d is gone; taking it anew", fn.name(),
                        instance, p);
                handBack(p, true);
            }
        }
        checkDraining();
        List<String> members = membership.members(fn.name(), instance);
        int n = members.size();
        int rank = members.indexOf(instance);
        int p = fn.partitions();
        int share = p / n + (rank < p % n ? 1 : 0);
        while (owned.size() > share) {
            handBack(owned.lastKey(), true);
        }
        for (int k = 0; k < p && owned.size() < share; k++) {
            int partition = (rank * p / n + k) % p; // start where this rank's share would lie: fewer collisions
            if (!owned.containsKey(partition)) {
                take(partition);
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
        reporting = session;
        return true;
    }

    /** A connection of the session ended (client thread): forget it at once, reconnect on the balancer. */
    private void lost() {
        try {
            if (!stopping) {
                balancer.execute(this::rebalanceSafely);
            }
        } catch (java.util.concurrent.RejectedExecutionException stoppedMeanwhile) {
            // stopping: nothing to rebuild
        }
    }

    /**
     * The session is gone, and with it every lock and consumer: stop the consumers without waiting (their
     * calls finish on their own and cannot ack; the partition's handling lock keeps the next consumer behind
     * them) and forget the partitions.
     */
    private void forget(String why) {
        LOG.warnf("function %s instance %s: %s; dropping %d partitions, taking them anew once connected",
                fn.name(), instance, why, owned.size());
        sessionLostAt = System.nanoTime();
        owned.values().forEach(c -> c.stop(Duration.ZERO));
        if (!owned.isEmpty()) {
            metrics.handover(fn.name(), "lost");
        }
        owned.clear();
        ownedNow = 0;
        stalled.clear();
        session.abort();
        session = null;
        reporting = null;
    }

    /** Takes the partition if its lock is free: lock first, then consume. */
    private void take(int partition) throws IOException {
        if (!session.lock(partition)) {
            return;
        }
        String queue = names.partition(fn.name(), partition);
        Channel channel = null;
        PartitionConsumer consumer;
        try {
            channel = session.consumerChannel();
            channel.basicQos(fn.prefetch());
            consumer = new PartitionConsumer(channel, handling.computeIfAbsent(partition, k -> new ReentrantLock()),
                    fn, queue, invokers, session.deadLetters(), calls, dedup, attemptLog, metrics, json, codec,
                    progress, acks);
            channel.basicConsume(queue, false, fn.name() + "-" + partition + "@" + instance, consumer);
        } catch (IOException | RuntimeException e) {
            if (channel != null) {
                Broker.closeQuietly(channel);
            }
            session.unlock(partition);
            throw e;
        }
        owned.put(partition, consumer);
        ownedNow = owned.size();
        metrics.handover(fn.name(), "taken");
        LOG.infof("function %s instance %s: took partition %s (owns %d of %d)", fn.name(), instance, queue,
                owned.size(), fn.partitions());
    }

    /**
     * Hands the partition back in order: stop handling, let the call in progress finish and ack, close the
     * channel (anything prefetched returns to the head of the queue), then release the lock. No basic.cancel
     * first: with single active consumer a cancel would let a waiting consumer start while our call runs.
     */
    private void handBack(int partition, boolean releaseLock) {
        PartitionConsumer consumer = owned.remove(partition);
        if (consumer == null) {
            return;
        }
        ownedNow = owned.size();
        consumer.stop(handOverWait());
        Broker.closeQuietly(consumer.getChannel());
        if (releaseLock) {
            session.unlock(partition);
        }
        metrics.handover(fn.name(), "handed-back");
        LOG.infof("function %s instance %s: handed partition %s back (owns %d of %d)", fn.name(), instance,
                names.partition(fn.name(), partition), owned.size(), fn.partitions());
    }

    /**
     * A partition whose consumer holds nothing while its queue has events ready is not being fed: it is
     * reported (readiness) and taken anew, so no fault can leave it orphaned for longer than one check. The
     * report stays until the partition's consumer gets an event again or its queue is empty.
     */
    private void checkDraining() {
        stalled.keySet().removeIf(p -> !owned.containsKey(p));
        Duration limit = stallAfter();
        for (Integer p : List.copyOf(owned.keySet())) {
            PartitionConsumer c = owned.get(p);
            String queue = names.partition(fn.name(), p);
            Stall stall = stalled.get(p);
            if (stall != null && c.deliveredSince(stall.at())) {
                LOG.infof("function %s instance %s: partition %s drains again", fn.name(), instance, queue);
                stalled.remove(p);
            }
            Duration idle = c.idle();
            if (idle.compareTo(limit) < 0) {
                continue;
            }
            AMQP.Queue.DeclareOk state = session.inspect(queue);
            if (state == null || state.getMessageCount() == 0) {
                stalled.remove(p);
                continue;
            }
            String seen = "holds " + state.getMessageCount() + " events, nothing delivered for " + idle.toSeconds()
                    + " s";
            stalled.put(p, new Stall(queue, seen, System.nanoTime()));
            metrics.handover(fn.name(), "stalled");
            LOG.warnf("function %s instance %s: partition %s %s; taking it anew", fn.name(), instance, queue, seen);
            handBack(p, true);
            try {
                take(p);
            } catch (IOException | RuntimeException e) {
                LOG.debugf("function %s: retaking %s failed: %s", fn.name(), queue, Broker.reason(e));
            }
        }
    }

    /** How long a consumer may hold nothing while its queue has events before it counts as stalled. */
    private Duration stallAfter() {
        return Duration.ofSeconds(10).plus(interval.multipliedBy(4));
    }

    /** A call in progress ends within its timeout (then it is abandoned); retries stop at once when stopping. */
    private Duration handOverWait() {
        return fn.timeout().plusSeconds(5);
    }

    /**
     * Publishes this instance's progress for the function to the status exchange (not persistent, not
     * confirmed: a lost report is replaced by the next one). Gates derive drain rates and lag from these
     * reports, and instances of the function learn from them who runs it. Without a session nothing is sent,
     * so the others stop counting this instance and take its partitions, which its lost session released.
     */
    private void report(boolean leaving) {
        ConsumerSession s = reporting;
        if ((stopping && !leaving) || s == null) {
            return; // a late regular report must not follow the 'leaving' one
        }
        try {
            AMQP.BasicProperties properties = new AMQP.BasicProperties.Builder().contentType("application/json")
                    .deliveryMode(1).expiration("5000").build();
            byte[] body = json.writeValueAsBytes(new ProgressReport(fn.name(), instance, progress.completedTotal(),
                    progress.oldestInHand(), System.currentTimeMillis(), ownedCount(), leaving, progress.window(),
                    progress.callMicros()));
            s.report(names.statusExchange(), properties, body);
        } catch (IOException | RuntimeException e) {
            LOG.debugf("function %s: progress report not sent: %s", fn.name(), e);
        }
    }

    /**
     * Hands every partition back (calls in progress finish and ack, bounded by {@code wait}), tells the
     * other instances it is leaving, and closes its connections.
     */
    void stop(Duration wait) {
        stopping = true;
        endSchedules();
        synchronized (this) {
            long deadline = System.nanoTime() + wait.toNanos();
            for (PartitionConsumer consumer : owned.values()) {
                consumer.stop(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
            }
            owned.clear();
            ownedNow = 0;
            if (session != null) {
                report(true);
                session.close(); // releases every lock held
                session = null;
            }
        }
        pool.shutdownNow();
        calls.shutdown();
        acks.shutdown();
    }

    /**
     * Ends this instance as a crash would, at the worst moment for duplicates: handler calls in progress
     * finish but are not acked, and the connections are dropped without a goodbye (for tests of take-over).
     */
    void abort() {
        stopping = true;
        endSchedules();
        synchronized (this) {
            owned.values().forEach(c -> c.crash(Duration.ofSeconds(30)));
            if (session != null) {
                session.abort();
                session = null;
            }
        }
        pool.shutdownNow();
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
