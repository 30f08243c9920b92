package dev.eventline.trigger;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;

import dev.eventline.broker.Broker;
import dev.eventline.broker.EventCodec;
import dev.eventline.broker.FunctionProgress;
import dev.eventline.broker.ProgressReport;
import dev.eventline.config.FunctionDescription;
import dev.eventline.fault.DeadLetters;
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
 * Owning partition i means holding its lock, an exclusive queue {@code <fn>-<i>.owner}, on an ownership
 * connection that is never recovered: the broker refuses the lock to anyone else and drops it when that
 * connection ends (crash, kill -9, lost network), so the partition becomes free for the others. A partition
 * is handed back in order: consuming stops, the call in progress finishes and acks, the channel closes
 * (anything prefetched returns to the head of the queue), and only then is the lock released. The
 * partition queues keep single active consumer as a second guard: should two instances ever subscribe to
 * one partition, the broker still delivers to one of them only.
 * <p>
 * Consuming uses a connection of its own (one slow function cannot stall another's deliveries or acks), a
 * pool of {@code concurrency} delivery threads and one channel with prefetch 1 per owned partition.
 */
final class FunctionConsumers {

    private static final Logger LOG = Logger.getLogger(FunctionConsumers.class);

    private final FunctionDescription fn;
    private final String instance;
    private final Broker broker;
    private final Names names;
    private final Membership membership;
    private final Connection connection;
    /**
     * Publishes dead letters, delayed retries and progress reports. Separate from the consuming connection:
     * under a resource alarm the broker blocks connections that publish, and the consumers' acks (which free
     * the memory that clears the alarm) must keep flowing.
     */
    private Connection publishing;
    /** Holds the partition locks; not recovered (see the class comment). */
    private Connection ownership;
    private final ExecutorService pool;
    private final HandlerCalls calls;
    private final FunctionProgress progress = new FunctionProgress();
    private final TreeMap<Integer, PartitionConsumer> owned = new TreeMap<>();
    private final Factory factory;
    private PipelineMetrics metrics;
    private ScheduledFuture<?> reports;
    private ScheduledFuture<?> balancing;
    /** Rebalancing waits for calls in progress: a thread of its own, not the shared report scheduler. */
    private final ScheduledExecutorService balancer;
    private Channel statusChannel;
    private ObjectMapper json;
    private volatile boolean stopping;
    private volatile int ownedNow;
    private final java.util.function.IntSupplier ownedGauge = this::ownedCount;

    /** Makes the consumer of one partition, on a channel of the consuming connection. */
    private interface Factory {
        PartitionConsumer make(Channel channel, String queue);
    }

    private FunctionConsumers(FunctionDescription fn, String instance, Broker broker, Names names,
            Membership membership, Connection connection, ExecutorService pool, HandlerCalls calls,
            Factory factory) {
        this.fn = fn;
        this.instance = instance;
        this.broker = broker;
        this.names = names;
        this.membership = membership;
        this.connection = connection;
        this.pool = pool;
        this.calls = calls;
        this.factory = factory;
        this.balancer = Daemons.scheduler("eventline-balance-" + fn.name());
    }

    static FunctionConsumers start(Broker broker, String instance, FunctionDescription fn, Names names,
            FunctionInvokers invokers, PipelineMetrics metrics, ObjectMapper json, EventCodec codec,
            ScheduledExecutorService scheduler, Duration every, Membership membership)
            throws IOException, TimeoutException {
        ExecutorService pool = Executors.newFixedThreadPool(fn.concurrency(), Daemons.named("eventline-" + fn.name()));
        Connection connection;
        try {
            connection = broker.open("eventline-trigger-" + fn.name() + "@" + instance, pool);
        } catch (IOException | TimeoutException | RuntimeException e) {
            pool.shutdownNow();
            throw e;
        }
        Dedup dedup = new Dedup(fn.dedup());
        HandlerCalls calls = new HandlerCalls(fn.name(), fn.concurrency(), dedup, metrics);
        AttemptLog attemptLog = new AttemptLog();
        FunctionProgress[] progressHolder = new FunctionProgress[1];
        DeadLetters[] deadLetters = new DeadLetters[1];
        FunctionConsumers started = new FunctionConsumers(fn, instance, broker, names, membership, connection, pool,
                calls, (channel, queue) -> new PartitionConsumer(channel, fn, queue, invokers, deadLetters[0], calls,
                        dedup, attemptLog, metrics, json, codec, progressHolder[0]));
        progressHolder[0] = started.progress;
        started.metrics = metrics;
        started.json = json;
        metrics.registerConsumer(fn);
        metrics.track(fn.name(), started.progress);
        metrics.trackOwnership(fn.name(), started.ownedGauge);
        try {
            started.publishing = broker.open("eventline-trigger-" + fn.name() + "-publish@" + instance);
            boolean relaxed = fn.retry().mode() == FunctionDescription.RetryMode.RELAXED;
            deadLetters[0] = new DeadLetters(started.publishing.createChannel(), names.deadLetterExchange(fn.name()),
                    relaxed ? names.retryExchange(fn.name()) : null, 10_000);
            started.statusChannel = started.publishing.createChannel();
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

    boolean isOpen() {
        return connection.isOpen();
    }

    /** Lock-free: progress reports must not wait behind a hand-over that waits for a slow call. */
    int ownedCount() {
        return ownedNow;
    }

    synchronized List<Integer> ownedPartitions() {
        return List.copyOf(owned.keySet());
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
        if (ownership == null || !ownership.isOpen()) {
            if (!owned.isEmpty()) {
                LOG.warnf("function %s instance %s: ownership connection lost; handing back %d partitions", fn.name(),
                        instance, owned.size());
                for (Integer p : List.copyOf(owned.keySet())) {
                    handBack(p, false);
                }
            }
            ownership = broker.openUnrecovered("eventline-owner-" + fn.name() + "@" + instance);
            // the broker drops every lock with this connection: stop consuming at once, not at the next tick
            ownership.addShutdownListener(cause -> {
                if (!stopping) {
                    balancer.execute(this::rebalanceSafely);
                }
            });
        }
        for (Integer p : List.copyOf(owned.keySet())) {
            PartitionConsumer c = owned.get(p);
            if (c.cancelledByBroker() || (connection.isOpen() && !c.getChannel().isOpen())) {
                LOG.warnf("function %s instance %s: the consumer of partition %d is gone; taking it anew", fn.name(),
                        instance, p);
                handBack(p, true);
            }
        }
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

    /** Takes the partition if its lock is free: lock first, then consume. */
    private void take(int partition) throws IOException {
        Channel lock = ownership.createChannel();
        try {
            lock.queueDeclare(names.partitionLock(fn.name(), partition), false, true, true, null);
        } catch (IOException e) {
            return; // RESOURCE_LOCKED: another instance owns it (the failed declare closed the channel)
        } finally {
            Broker.closeQuietly(lock); // the lock belongs to the connection, not the channel
        }
        String queue = names.partition(fn.name(), partition);
        Channel channel = null;
        PartitionConsumer consumer;
        try {
            channel = connection.createChannel();
            channel.basicQos(1);
            consumer = factory.make(channel, queue);
            channel.basicConsume(queue, false, fn.name() + "-" + partition + "@" + instance, consumer);
        } catch (IOException | RuntimeException e) {
            if (channel != null) {
                Broker.closeQuietly(channel);
            }
            releaseLock(partition);
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
            releaseLock(partition);
        }
        metrics.handover(fn.name(), "handed-back");
        LOG.infof("function %s instance %s: handed partition %s back (owns %d of %d)", fn.name(), instance,
                names.partition(fn.name(), partition), owned.size(), fn.partitions());
    }

    private void releaseLock(int partition) {
        if (ownership == null || !ownership.isOpen()) {
            return; // the locks went with the connection
        }
        Channel lock = null;
        try {
            lock = ownership.createChannel();
            lock.queueDelete(names.partitionLock(fn.name(), partition));
        } catch (IOException | RuntimeException e) {
            LOG.debugf("function %s: releasing the lock of partition %d failed: %s", fn.name(), partition, e);
        } finally {
            if (lock != null) {
                Broker.closeQuietly(lock);
            }
        }
    }

    /** A call in progress ends within its timeout (then it is abandoned); retries stop at once when stopping. */
    private Duration handOverWait() {
        return fn.timeout().plusSeconds(5);
    }

    /**
     * Publishes this instance's progress for the function to the status exchange (not persistent, not
     * confirmed: a lost report is replaced by the next one). Gates derive drain rates and lag from these
     * reports, and instances of the function learn from them who runs it.
     */
    private void report(boolean leaving) {
        if (stopping && !leaving) {
            return; // a late regular report must not follow the 'leaving' one
        }
        try {
            AMQP.BasicProperties properties = new AMQP.BasicProperties.Builder().contentType("application/json")
                    .deliveryMode(1).expiration("5000").build();
            byte[] body = json.writeValueAsBytes(new ProgressReport(fn.name(), instance, progress.completedTotal(),
                    progress.oldestInHand(), System.currentTimeMillis(), ownedCount(), leaving));
            statusChannel.basicPublish(names.statusExchange(), "", properties, body);
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
        }
        if (statusChannel != null) {
            report(true);
        }
        close(connection);
        close(ownership); // releases every lock held
        close(publishing);
        pool.shutdownNow();
        calls.shutdown();
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
        }
        connection.abort();
        if (ownership != null) {
            ownership.abort();
        }
        if (publishing != null) {
            publishing.abort();
        }
        pool.shutdownNow();
        calls.shutdown();
    }

    private void close(Connection c) {
        try {
            if (c != null && c.isOpen()) {
                c.close(5_000);
            }
        } catch (IOException | RuntimeException e) {
            LOG.debugf(e, "function %s: close failed", fn.name());
        }
    }

    private void endSchedules() {
        if (reports != null) {
            reports.cancel(false);
        }
        if (balancing != null) {
            balancing.cancel(false);
        }
        balancer.shutdown();
        if (metrics != null) {
            metrics.untrack(fn.name(), progress);
            metrics.untrackOwnership(fn.name(), ownedGauge);
        }
    }
}
