package dev.eventline.trigger;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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

import dev.eventline.broker.FunctionProgress;
import dev.eventline.broker.ProgressReport;
import dev.eventline.broker.Broker;
import dev.eventline.broker.EventCodec;
import dev.eventline.config.FunctionDescription;
import dev.eventline.fault.DeadLetters;
import dev.eventline.fault.Dedup;
import dev.eventline.metrics.PipelineMetrics;
import dev.eventline.topology.Names;
import dev.eventline.util.Daemons;

/**
 * One function's consumers in this process: a connection of its own (one slow function cannot stall
 * another's deliveries or acks), a pool of {@code concurrency} handler threads, and one channel with
 * prefetch 1 per partition queue. Every instance subscribes to every partition; single active consumer
 * lets one of them at a time receive, and the broker moves a partition to a standby when its consumer goes.
 */
final class FunctionConsumers {

    private static final Logger LOG = Logger.getLogger(FunctionConsumers.class);

    private final FunctionDescription fn;
    private final Connection connection;
    /**
     * Publishes dead letters, delayed retries and progress reports. Separate from the consuming connection:
     * under a resource alarm the broker blocks connections that publish, and the consumers' acks (which free
     * the memory that clears the alarm) must keep flowing.
     */
    private Connection publishing;
    private final ExecutorService pool;
    private final HandlerCalls calls;
    private final FunctionProgress progress = new FunctionProgress();
    private final List<PartitionConsumer> consumers = new ArrayList<>();
    private PipelineMetrics metrics;
    private ScheduledFuture<?> reports;

    private FunctionConsumers(FunctionDescription fn, Connection connection, ExecutorService pool,
            HandlerCalls calls) {
        this.fn = fn;
        this.connection = connection;
        this.pool = pool;
        this.calls = calls;
    }

    static FunctionConsumers start(Broker broker, String instance, FunctionDescription fn, Names names,
            FunctionInvokers invokers, PipelineMetrics metrics, ObjectMapper json, EventCodec codec,
            ScheduledExecutorService scheduler, Duration reportEvery) throws IOException, TimeoutException {
        ExecutorService pool = Executors.newFixedThreadPool(fn.concurrency(), Daemons.named("eventline-" + fn.name()));
        Connection connection;
        try {
            connection = broker.open("eventline-trigger-" + fn.name() + "@" + instance, pool);
        } catch (IOException | TimeoutException | RuntimeException e) {
            pool.shutdownNow();
            throw e;
        }
        Dedup dedup = new Dedup(fn.dedup());
        FunctionConsumers started = new FunctionConsumers(fn, connection, pool,
                new HandlerCalls(fn.name(), fn.concurrency(), dedup, metrics));
        started.metrics = metrics;
        metrics.registerConsumer(fn);
        metrics.track(fn.name(), started.progress);
        try {
            started.publishing = broker.open("eventline-trigger-" + fn.name() + "-publish@" + instance);
            boolean relaxed = fn.retry().mode() == FunctionDescription.RetryMode.RELAXED;
            DeadLetters deadLetters = new DeadLetters(started.publishing.createChannel(),
                    names.deadLetterExchange(fn.name()),
                    relaxed ? names.retryExchange(fn.name()) : null, 10_000);
            AttemptLog attemptLog = new AttemptLog();
            List<String> queues = names.partitions(fn.name(), fn.partitions());
            for (int i = 0; i < queues.size(); i++) {
                Channel channel = connection.createChannel();
                channel.basicQos(1);
                PartitionConsumer consumer = new PartitionConsumer(channel, fn, queues.get(i), invokers, deadLetters,
                        started.calls, dedup, attemptLog, metrics, json, codec, started.progress);
                channel.basicConsume(queues.get(i), false, fn.name() + "-" + i + "@" + instance, consumer);
                started.consumers.add(consumer);
            }
            started.reports = report(started.publishing.createChannel(), names.statusExchange(), instance, fn,
                    started.progress, json, scheduler, reportEvery);
        } catch (IOException | TimeoutException | RuntimeException e) {
            started.stop(Duration.ZERO);
            throw e;
        }
        LOG.infof("function %s: consuming %d partitions (%s..%s), %d handler threads", fn.name(), fn.partitions(),
                names.partition(fn.name(), 0), names.partition(fn.name(), fn.partitions() - 1), fn.concurrency());
        return started;
    }

    boolean isOpen() {
        return connection.isOpen();
    }

    /**
     * Publishes this instance's progress for the function to the status exchange on an interval (not
     * persistent, not confirmed: a lost report is replaced by the next one). Gates derive drain rates and
     * lag from these reports.
     */
    private static ScheduledFuture<?> report(Channel channel, String exchange, String instance,
            FunctionDescription fn, FunctionProgress progress, ObjectMapper json, ScheduledExecutorService scheduler,
            Duration every) {
        AMQP.BasicProperties properties = new AMQP.BasicProperties.Builder().contentType("application/json")
                .deliveryMode(1).expiration(String.valueOf(Math.max(1000, 4 * every.toMillis()))).build();
        return scheduler.scheduleAtFixedRate(() -> {
            try {
                byte[] body = json.writeValueAsBytes(new ProgressReport(fn.name(), instance,
                        progress.completedTotal(), progress.oldestInHand(), System.currentTimeMillis()));
                channel.basicPublish(exchange, "", properties, body);
            } catch (IOException | RuntimeException e) {
                LOG.debugf("function %s: progress report not sent: %s", fn.name(), e);
            }
        }, 0, every.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Cancels every subscription (the broker hands each partition to a standby instance), lets calls in
     * progress finish and ack (bounded by {@code wait}), then closes the connection: anything unacked returns
     * to its queue in order.
     */
    void stop(Duration wait) {
        endReports();
        for (PartitionConsumer consumer : consumers) {
            try {
                if (consumer.getConsumerTag() != null && consumer.getChannel().isOpen()) {
                    consumer.getChannel().basicCancel(consumer.getConsumerTag());
                }
            } catch (IOException | RuntimeException e) {
                LOG.debugf(e, "function %s: cancel failed", fn.name());
            }
        }
        long deadline = System.nanoTime() + wait.toNanos();
        for (PartitionConsumer consumer : consumers) {
            consumer.stop(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
        }
        try {
            if (connection.isOpen()) {
                connection.close(5_000);
            }
            if (publishing != null && publishing.isOpen()) {
                publishing.close(5_000);
            }
        } catch (IOException | RuntimeException e) {
            LOG.debugf(e, "function %s: close failed", fn.name());
        }
        pool.shutdownNow();
        calls.shutdown();
    }

    /**
     * Ends this instance as a crash would, at the worst moment for duplicates: handler calls in progress
     * finish but are not acked, and the connection is dropped without a goodbye (for tests of take-over).
     */
    void abort() {
        endReports();
        consumers.forEach(c -> c.crash(Duration.ofSeconds(30)));
        connection.abort();
        if (publishing != null) {
            publishing.abort();
        }
        pool.shutdownNow();
        calls.shutdown();
    }

    private void endReports() {
        if (reports != null) {
            reports.cancel(false);
        }
        if (metrics != null) {
            metrics.untrack(fn.name(), progress);
        }
    }
}
