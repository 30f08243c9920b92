package dev.eventline.metrics;

import java.io.IOException;
import java.util.Collection;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.jboss.logging.Logger;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;

import dev.eventline.broker.Broker;
import dev.eventline.config.FunctionDescription;
import dev.eventline.topology.Names;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Reads queue depths from the broker on a fixed interval: every partition, the dead-letter queue and (relaxed mode)
 * the delay queues of each watched function, one passive declare per queue per interval, whatever the traffic. Exports them, keeps
 * the last reading for admission control, and says in the log when a dead-letter queue crosses its warning
 * fraction ({@code limits.deadLetterWarn}) or fills up, once per crossing. A partition's depth is its ready
 * messages; the events in an active consumer's window (at most its {@code prefetch}) are not counted.
 */
@ApplicationScoped
public class QueueMonitor {

    private static final Logger LOG = Logger.getLogger(QueueMonitor.class);

    private enum Level { OK, WARN, FULL }

    /** One reading of a function's partitions: the sum, and when it was taken (nanoTime). */
    /**
     * @param total   ready events over all partitions
     * @param hottest ready events in the fullest partition
     */
    public record Depth(long total, long hottest, long readAtNanos) {
    }

    @Inject
    Broker broker;
    @Inject
    Names names;
    @Inject
    PipelineMetrics metrics;
    @Inject
    MeterRegistry registry;

    private final Map<String, Level> levels = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> gauges = new ConcurrentHashMap<>();
    private final Map<String, Depth> depths = new ConcurrentHashMap<>();
    private final Map<String, Runnable> listeners = new ConcurrentHashMap<>();
    private final Map<String, Boolean> paused = new ConcurrentHashMap<>();
    /** Per function, the last reading of each partition (by index) and of the dead-letter queue. */
    private final Map<String, long[]> partitionDepths = new ConcurrentHashMap<>();
    private final Map<String, Long> deadLetterDepths = new ConcurrentHashMap<>();
    /** Per function, events waiting in its relaxed-mode delay queues at the last reading. */
    private final Map<String, Long> delayedDepths = new ConcurrentHashMap<>();
    private Connection connection;
    private volatile String instance = "";

    /** Names this process's connection after its instance ({@code eventline-monitor@<instance>}). */
    public void instance(String name) {
        this.instance = name;
    }

    /** @return this process's instance name (empty before it is known) */
    public String instance() {
        return instance;
    }

    /** One round over these functions; failures are logged at debug and retried next round. */
    public synchronized void poll(Collection<FunctionDescription> functions) {
        try {
            if (connection == null || !connection.isOpen()) {
                if (connection != null) {
                    connection.abort();
                }
                connection = broker.open("eventline-monitor@" + instance);
            }
            Channel ch = connection.createChannel();
            try {
                for (FunctionDescription fn : functions) {
                    try {
                        read(ch, fn);
                    } catch (IOException e) {
                        // a missing queue closes the channel: report it, go on with the next function
                        LOG.debugf("queue depths of %s not read: %s", fn.name(), Broker.reason(e));
                        Broker.closeQuietly(ch);
                        ch = connection.createChannel();
                    }
                }
            } finally {
                Broker.closeQuietly(ch);
            }
            for (FunctionDescription fn : functions) {
                paused.put(fn.name(), Broker.passive(connection, names.pauseMarker(fn.name())).isPresent());
            }
        } catch (IOException | TimeoutException | RuntimeException e) {
            LOG.debugf("queue depths not read: %s", Broker.reason(e));
        }
    }

    private void read(Channel ch, FunctionDescription fn) throws IOException {
        long total = 0;
        long hottest = 0;
        long[] each = new long[fn.partitions()];
        int index = 0;
        for (String partition : names.partitions(fn.name(), fn.partitions())) {
            long depth = ch.queueDeclarePassive(partition).getMessageCount();
            each[index++] = depth;
            gauge("queue.depth", "events waiting in one partition queue", fn.name(), partition).set(depth);
            total += depth;
            hottest = Math.max(hottest, depth);
        }
        depths.put(fn.name(), new Depth(total, hottest, System.nanoTime()));
        gauge("function.depth", "events waiting in all partition queues of the function", fn.name(), null).set(total);
        listeners.getOrDefault(fn.name(), () -> { }).run();
        long dlq = ch.queueDeclarePassive(names.deadLetterQueue(fn.name())).getMessageCount();
        metrics.deadLetterDepth(fn.name(), dlq, fn.limits().deadLetterMax());
        deadLetterDepths.put(fn.name(), dlq);
        long delayed = 0;
        for (String queue : names.delayQueues(fn)) {
            delayed += ch.queueDeclarePassive(queue).getMessageCount();
        }
        // the console's reading of the function: kept only whole (a failed read above keeps the last whole one)
        partitionDepths.put(fn.name(), each);
        delayedDepths.put(fn.name(), delayed);
        report(fn, dlq);
    }

    /** @return whether the function's intake was paused at the last reading */
    public boolean paused(String function) {
        return paused.getOrDefault(function, false);
    }

    /** @return the last reading of the function's partitions, if any */
    public Optional<Depth> depth(String function) {
        return Optional.ofNullable(depths.get(function));
    }

    /** @return the last reading of each partition's ready events, by partition index (empty before one) */
    public long[] partitionDepths(String function) {
        long[] each = partitionDepths.get(function);
        return each == null ? new long[0] : each.clone();
    }

    /** @return events in the function's relaxed-mode delay queues at the last reading, or -1 before one */
    public long delayedDepth(String function) {
        return delayedDepths.getOrDefault(function, -1L);
    }

    /** @return the dead-letter queue's depth at the last reading, or -1 before one */
    public long deadLetterDepth(String function) {
        return deadLetterDepths.getOrDefault(function, -1L);
    }

    /** Runs after each new reading of the function's depth (for admission control's own accounting). */
    public void onReading(String function, Runnable listener) {
        listeners.put(function, listener);
    }

    private AtomicLong gauge(String name, String description, String function, String partition) {
        return gauges.computeIfAbsent(name + function + "/" + partition, k -> {
            AtomicLong holder = new AtomicLong();
            Gauge.Builder<AtomicLong> b = Gauge.builder(PipelineMetrics.PREFIX + name, holder, AtomicLong::get)
                    .description(description).baseUnit("events").tag("function", function);
            if (partition != null) {
                b.tag("partition", partition);
            }
            b.register(registry);
            return holder;
        });
    }

    private void report(FunctionDescription fn, long depth) {
        long max = fn.limits().deadLetterMax();
        Level now = depth >= max ? Level.FULL
                : depth >= (long) Math.ceil(fn.limits().deadLetterWarn() * max) ? Level.WARN : Level.OK;
        Level before = levels.put(fn.name(), now);
        if (now == before || (before == null && now == Level.OK)) {
            return;
        }
        String dlq = names.deadLetterQueue(fn.name());
        switch (now) {
            case FULL -> LOG.errorf("dead-letter queue %s is full (%d of %d): partitions that need to dead-letter "
                    + "now wait, nothing is dropped; replay or purge it", dlq, depth, max);
            case WARN -> LOG.warnf("dead-letter queue %s holds %d of %d events (warning at %.0f%%)", dlq, depth, max,
                    fn.limits().deadLetterWarn() * 100);
            case OK -> LOG.infof("dead-letter queue %s is back to %d of %d events", dlq, depth, max);
        }
    }

    public synchronized void close() {
        if (connection != null) {
            connection.abort();
            connection = null;
        }
    }
}
