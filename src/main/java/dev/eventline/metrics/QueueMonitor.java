package dev.eventline.metrics;

import java.io.IOException;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.jboss.logging.Logger;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;

import dev.eventline.broker.Broker;
import dev.eventline.config.FunctionDescription;
import dev.eventline.topology.Names;

/**
 * Reads the dead-letter queues' depths from the broker on a fixed interval (one passive declare per queue
 * per interval, whatever the traffic), exports them, and says in the log when one crosses its warning
 * fraction ({@code limits.deadLetterWarn}) or fills up, once per crossing.
 */
@ApplicationScoped
public class QueueMonitor {

    private static final Logger LOG = Logger.getLogger(QueueMonitor.class);

    private enum Level { OK, WARN, FULL }

    @Inject
    Broker broker;
    @Inject
    Names names;
    @Inject
    PipelineMetrics metrics;

    private final Map<String, Level> levels = new ConcurrentHashMap<>();
    private Connection connection;

    /** One round over these functions; failures are logged at debug and retried next round. */
    public synchronized void poll(Collection<FunctionDescription> functions) {
        try {
            if (connection == null || !connection.isOpen()) {
                if (connection != null) {
                    connection.abort();
                }
                connection = broker.open("eventline-monitor");
            }
            Channel ch = connection.createChannel();
            try {
                for (FunctionDescription fn : functions) {
                    long depth = ch.queueDeclarePassive(names.deadLetterQueue(fn.name())).getMessageCount();
                    metrics.deadLetterDepth(fn.name(), depth, fn.limits().deadLetterMax());
                    report(fn, depth);
                }
            } finally {
                Broker.closeQuietly(ch);
            }
        } catch (IOException | TimeoutException | RuntimeException e) {
            LOG.debugf("queue depths not read: %s", Broker.reason(e));
        }
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
