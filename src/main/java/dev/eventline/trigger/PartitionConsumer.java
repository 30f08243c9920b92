package dev.eventline.trigger;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;

import dev.eventline.broker.EventCodec;
import dev.eventline.config.FunctionDescription;
import dev.eventline.fault.DeadLetters;
import dev.eventline.fault.RetryPolicy;
import dev.eventline.metrics.PipelineMetrics;
import io.quarkus.funqy.runtime.FunctionInvoker;

/**
 * Consumes one partition queue: prefetch 1 (at most one event in flight), the handler runs on the
 * delivery thread, the ack follows the handler's return. A lock serialises handling, so even across a
 * connection recovery (when the client may deliver the requeued event again on a new channel while the old
 * call still runs) a partition never runs two handler calls at once; the old call's ack is then dropped by the
 * client, as its delivery tag belongs to the dead channel.
 */
final class PartitionConsumer extends DefaultConsumer {

    private static final Logger LOG = Logger.getLogger(PartitionConsumer.class);

    private final FunctionDescription fn;
    private final String queue;
    private final FunctionInvokers invokers;
    private final DeadLetters deadLetters;
    private final RetryPolicy retry;
    private final PipelineMetrics metrics;
    private final ObjectMapper json;
    private final EventCodec codec;
    private final ReentrantLock handling = new ReentrantLock();
    private final CountDownLatch stopping = new CountDownLatch(1);
    private volatile boolean crashed;

    PartitionConsumer(Channel channel, FunctionDescription fn, String queue, FunctionInvokers invokers,
            DeadLetters deadLetters, PipelineMetrics metrics, ObjectMapper json, EventCodec codec) {
        super(channel);
        this.fn = fn;
        this.queue = queue;
        this.invokers = invokers;
        this.deadLetters = deadLetters;
        this.retry = RetryPolicy.of(fn);
        this.metrics = metrics;
        this.json = json;
        this.codec = codec;
    }

    @Override
    public void handleDelivery(String consumerTag, Envelope envelope, AMQP.BasicProperties properties, byte[] body)
            throws IOException {
        handling.lock();
        try {
            if (stopping.getCount() == 0) {
                return; // not acked: the broker gives it back, in order, when this channel closes
            }
            handle(envelope.getDeliveryTag(), properties, body);
        } finally {
            handling.unlock();
        }
    }

    private void handle(long tag, AMQP.BasicProperties properties, byte[] body) throws IOException {
        String id = properties.getMessageId();
        ObjectNode event;
        FunctionInvoker invoker;
        FunqyCall call;
        try {
            event = codec.decode(body);
            String type = event.hasNonNull("type") ? event.get("type").asText() : null;
            if (type == null || !event.hasNonNull("id")) {
                throw new IllegalArgumentException("not a CloudEvent: 'type' or 'id' is missing");
            }
            id = event.get("id").asText();
            if (!fn.eventTypes().contains(type)) {
                throw new IllegalArgumentException("event type '" + type + "' is not owned by function " + fn.name());
            }
            invoker = invokers.forType(type).orElseThrow(
                    () -> new IllegalArgumentException("no @Funq method for event type '" + type + "'"));
            call = new FunqyCall(invoker, event, json);
        } catch (IllegalArgumentException e) {
            Instant now = Instant.now();
            deadLetter(tag, properties, body, id, new DeadLetters.Failure("rejected: " + e.getMessage(), e, 0, now, now));
            return;
        }
        Instant first = null;
        for (int attempt = 1;; attempt++) {
            long start = System.nanoTime();
            try {
                call.run(invoker, fn.timeout());
                metrics.handlerTime(fn.name(), Duration.ofNanos(System.nanoTime() - start));
                if (crashed) {
                    return;
                }
                getChannel().basicAck(tag, false);
                metrics.processed(fn.name(), "success");
                long acceptedAt = EventCodec.acceptedAt(properties);
                if (acceptedAt > 0) {
                    metrics.endToEnd(fn.name(), acceptedAt, System.currentTimeMillis());
                }
                return;
            } catch (Throwable t) {
                metrics.handlerTime(fn.name(), Duration.ofNanos(System.nanoTime() - start));
                Instant now = Instant.now();
                first = first == null ? now : first;
                LOG.warnf("function %s partition %s event %s: attempt %d of %d failed: %s", fn.name(), queue, id,
                        attempt, retry.maxAttempts(), t.toString());
                LOG.debug("handler failure", t);
                if (retry.exhausted(attempt)) {
                    deadLetter(tag, properties, body, id,
                            new DeadLetters.Failure("retries exhausted", t, attempt, first, now));
                    return;
                }
                metrics.retried(fn.name());
                if (awaitStop(retry.delayAfter(attempt))) {
                    return; // stopping: not acked, the event goes back to the queue in place
                }
            }
        }
    }

    private void deadLetter(long tag, AMQP.BasicProperties properties, byte[] body, String id,
            DeadLetters.Failure failure) throws IOException {
        LOG.warnf("function %s partition %s event %s: dead-lettered (%s)", fn.name(), queue, id, failure.reason());
        if (deadLetters.send(queue, properties, body, failure)) {
            getChannel().basicAck(tag, false);
        } else {
            getChannel().basicReject(tag, false); // the queue's own at-least-once dead-lettering takes it
        }
        metrics.processed(fn.name(), "dead-lettered");
    }

    private boolean awaitStop(Duration delay) {
        try {
            return stopping.await(delay.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return true;
        }
    }

    /**
     * Behaves as a process that dies right after its handler returned and before it acked: the call in
     * progress finishes, nothing more is acked, and closing the connection returns the event to the queue.
     */
    void crash(Duration wait) {
        crashed = true;
        stop(wait);
    }

    /** Stops taking events and waits (bounded) for the handler call in progress, if any, to finish. */
    void stop(Duration wait) {
        stopping.countDown();
        try {
            if (handling.tryLock(wait.toMillis(), TimeUnit.MILLISECONDS)) {
                handling.unlock();
            } else {
                LOG.warnf("function %s partition %s: handler still running after %s; its event will be redelivered",
                        fn.name(), queue, wait);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
