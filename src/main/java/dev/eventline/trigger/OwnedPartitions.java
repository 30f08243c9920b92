package dev.eventline.trigger;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

import org.jboss.logging.Logger;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;

import dev.eventline.broker.Broker;
import dev.eventline.config.FunctionDescription;
import dev.eventline.topology.Names;

/**
 * The partitions of one function this instance consumes, each with its consumer, on the current
 * {@link ConsumerSession}. Taking a partition means its lock first, then its consumer; handing it back goes
 * in order: consuming stops, the call in progress finishes, every settled event is acked, the channel closes
 * (the rest of its window returns to the head of the queue, in order), and only then is the lock released.
 * <p>
 * Each check also makes sure each partition drains: one whose consumer has held nothing for
 * {@link #stallAfter()} while the queue has events ready (a consumer the broker no longer feeds) is reported
 * as stalled (readiness) and taken anew, so no fault can leave it orphaned for longer than one check.
 * <p>
 * Which partitions to own is {@link FunctionConsumers}'s decision; its lock guards every change here.
 */
final class OwnedPartitions {

    private static final Logger LOG = Logger.getLogger(OwnedPartitions.class);

    /** What the stall check saw: the queue, in words, and when (nanoTime). */
    private record Stall(String queue, String seen, long at) {
    }

    private final FunctionDescription fn;
    private final String instance;
    private final Names names;
    private final FunctionHandling handling;
    private final Duration interval;
    private final TreeMap<Integer, PartitionConsumer> owned = new TreeMap<>();
    /** One per partition, for good: handling never overlaps across consumers of the same partition. */
    private final Map<Integer, PartitionCalls> calls = new ConcurrentHashMap<>();
    /** Partitions seen stalled, until they drain again (readiness). */
    private final Map<Integer, Stall> stalled = new ConcurrentHashMap<>();
    /** The owned partitions' indexes, for lock-free readers. */
    private volatile List<Integer> indexes = List.of();

    OwnedPartitions(FunctionDescription fn, String instance, Names names, FunctionHandling handling, Duration interval) {
        this.fn = fn;
        this.instance = instance;
        this.names = names;
        this.handling = handling;
        this.interval = interval;
    }

    /** Lock-free: progress reports must not wait behind a hand-over that waits for a slow call. */
    int count() {
        return indexes.size();
    }

    /** Lock-free, like {@link #count()}: the indexes of the partitions owned, ascending. */
    List<Integer> indexes() {
        return indexes;
    }

    synchronized List<Integer> partitions() {
        return List.copyOf(owned.keySet());
    }

    synchronized boolean owns(int partition) {
        return owned.containsKey(partition);
    }

    synchronized Integer last() {
        return owned.isEmpty() ? null : owned.lastKey();
    }

    /** @return partition queue → what was seen, for partitions that hold events and do not drain */
    Map<String, String> stalled() {
        Map<String, String> all = new TreeMap<>();
        stalled.values().forEach(st -> all.put(st.queue(), st.seen()));
        return all;
    }

    /** Takes the partition if its lock is free: lock first, then consume. */
    synchronized void take(ConsumerSession session, int partition) throws IOException {
        if (!session.lock(partition)) {
            return;
        }
        String queue = names.partition(fn.name(), partition);
        Channel channel = null;
        PartitionConsumer consumer = null;
        try {
            channel = session.consumerChannel();
            channel.basicQos(fn.prefetch());
            consumer = new PartitionConsumer(channel, calls.computeIfAbsent(partition, k -> new PartitionCalls()), fn,
                    queue, handling, session.deadLetters(),
                    fn.parked() ? session.parking(partition, handling.json()) : null);
            channel.basicConsume(queue, false, fn.name() + "-" + partition + "@" + instance, consumer);
        } catch (IOException | RuntimeException e) {
            if (consumer != null) {
                consumer.abandon(); // drains it restored may have started: they stop, and give back what they took
            }
            if (channel != null) {
                Broker.closeQuietly(channel);
            }
            session.unlock(partition);
            throw e;
        }
        owned.put(partition, consumer);
        indexes = List.copyOf(owned.keySet());
        handling.metrics().handover(fn.name(), "taken");
        LOG.infof("function %s instance %s: took partition %s (owns %d of %d)", fn.name(), instance, queue,
                owned.size(), fn.partitions());
    }

    /**
     * Hands the partition back in order: stop handling, let the call in progress finish and ack, close the
     * channel (anything prefetched returns to the head of the queue), then release the lock. No basic.cancel
     * first: with single active consumer a cancel would let a waiting consumer start while our call runs.
     */
    synchronized void handBack(ConsumerSession session, int partition) {
        PartitionConsumer consumer = owned.remove(partition);
        if (consumer == null) {
            return;
        }
        indexes = List.copyOf(owned.keySet());
        consumer.stop(handOverWait());
        Broker.closeQuietly(consumer.getChannel());
        session.unlock(partition);
        handling.metrics().handover(fn.name(), "handed-back");
        LOG.infof("function %s instance %s: handed partition %s back (owns %d of %d)", fn.name(), instance,
                names.partition(fn.name(), partition), owned.size(), fn.partitions());
    }

    /** Hands back every partition whose consumer the broker cancelled or whose channel ended, to take it anew. */
    synchronized void dropGone(ConsumerSession session) {
        for (Integer p : List.copyOf(owned.keySet())) {
            PartitionConsumer c = owned.get(p);
            if (c.cancelledByBroker() || !c.getChannel().isOpen()) {
                LOG.warnf("function %s instance %s: the consumer of partition %d is gone; taking it anew", fn.name(),
                        instance, p);
                handBack(session, p);
            }
        }
    }

    /**
     * A partition whose consumer holds nothing while its queue has events ready is not being fed: it is
     * reported (readiness) and taken anew. The report stays until the partition's consumer gets an event
     * again or its queue is empty.
     */
    synchronized void checkDraining(ConsumerSession session) {
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
            handling.metrics().handover(fn.name(), "stalled");
            LOG.warnf("function %s instance %s: partition %s %s; taking it anew", fn.name(), instance, queue, seen);
            handBack(session, p);
            try {
                take(session, p);
            } catch (IOException | RuntimeException e) {
                LOG.debugf("function %s: retaking %s failed: %s", fn.name(), queue, Broker.reason(e));
            }
        }
    }

    /**
     * The session is gone, and with it every lock and consumer: abandons the consumers without waiting (their
     * calls finish on their own and settle nothing; the partition's handling lock keeps the next consumer in this
     * process behind them) and forgets the partitions.
     *
     * @return how many partitions were forgotten
     */
    synchronized int forget() {
        int forgotten = owned.size();
        owned.values().forEach(PartitionConsumer::abandon);
        owned.clear();
        indexes = List.of();
        stalled.clear();
        return forgotten;
    }

    /** Stops every consumer by the deadline (calls in progress finish and ack), without releasing locks. */
    synchronized void stopAll(long deadlineNanos) {
        for (PartitionConsumer consumer : owned.values()) {
            consumer.stop(Duration.ofNanos(Math.max(0, deadlineNanos - System.nanoTime())));
        }
        owned.clear();
        indexes = List.of();
    }

    /** How long a consumer may hold nothing while its queue has events before it counts as stalled. */
    private Duration stallAfter() {
        return Duration.ofSeconds(10).plus(interval.multipliedBy(4));
    }

    /** A call in progress ends within its timeout (then it is abandoned); retries stop at once when stopping. */
    private Duration handOverWait() {
        return fn.timeout().plusSeconds(5);
    }
}
