package dev.eventline.fault;

import java.io.IOException;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.TimeoutException;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;

import dev.eventline.broker.EventCodec;
import dev.eventline.topology.TopologySpec;

/**
 * Moves a failed event out of its partition, with its history in headers, and waits for the broker's
 * confirm, so the caller acks the original only once the copy is safe: to the function's dead-letter
 * exchange when it will not be tried again, or (relaxed retry mode) to its retry exchange, where a delay
 * queue holds it for its backoff and then returns it to its partition.
 * <p>
 * One copy at a time, on a confirm channel of its own that is replaced after any failure: a publish that
 * throws has already taken a sequence number the broker never saw, so the channel's confirms could no longer
 * be matched to what was sent.
 */
public final class DeadLetters {

    /** What became of a copy. */
    public enum Outcome {
        /** the broker confirmed it: the original may be acked */
        CONFIRMED,
        /** the broker refused it (target queue full, or nothing bound): the original must stay */
        REFUSED,
        /** no answer (channel or connection lost, confirm timeout): the original must stay */
        FAILED
    }

    private final Connection connection;
    private final String deadLetterExchange;
    private final String retryExchange;
    private final long confirmTimeoutMillis;
    private Channel channel;
    private volatile boolean returned;

    /** @param connection the connection to publish on (its channels are this object's own) */
    public DeadLetters(Connection connection, String deadLetterExchange, String retryExchange,
            long confirmTimeoutMillis) {
        this.connection = connection;
        this.deadLetterExchange = deadLetterExchange;
        this.retryExchange = retryExchange;
        this.confirmTimeoutMillis = confirmTimeoutMillis;
    }

    /** Why an event failed, and when. */
    public record Failure(String reason, Throwable error, int attempts, Instant first, Instant last) {
    }

    /** Sends the event to the dead-letter queue. */
    public Outcome send(String queue, AMQP.BasicProperties original, byte[] body, Failure failure) {
        Map<String, Object> headers = DeadLetterFormat.withHistory(original,
                DeadLetterFormat.History.of(queue, failure));
        return publish(deadLetterExchange, queue, original.builder().headers(headers).deliveryMode(2).build(), body);
    }

    /**
     * Sends the event to wait in delay level {@code level} for {@code delayMillis} (never longer than the
     * level's queue TTL), after which the broker routes it back to {@code queue} by its routing key.
     */
    public Outcome delay(String queue, AMQP.BasicProperties original, byte[] body, Failure failure, int level,
            long delayMillis) {
        Map<String, Object> headers = DeadLetterFormat.withHistory(original,
                DeadLetterFormat.History.of(queue, failure));
        headers.remove(DeadLetterFormat.REASON); // a reason is given only when it is dead-lettered for good
        headers.put(TopologySpec.DELAY_LEVEL, String.valueOf(level));
        // back in its partition it counts as new for lag and latency, not as old as its first acceptance
        headers.put(EventCodec.ACCEPTED_AT, System.currentTimeMillis() + Math.max(1, delayMillis));
        AMQP.BasicProperties properties = original.builder().headers(headers).deliveryMode(2)
                .expiration(String.valueOf(Math.max(1, delayMillis))).build();
        return publish(retryExchange, queue, properties, body);
    }

    private synchronized Outcome publish(String exchange, String routingKey, AMQP.BasicProperties properties,
            byte[] body) {
        if (exchange == null) {
            return Outcome.REFUSED;
        }
        returned = false;
        try {
            Channel ch = channel();
            ch.basicPublish(exchange, routingKey, true, properties, body);
            boolean acked = ch.waitForConfirms(confirmTimeoutMillis);
            if (!acked) {
                // a nack: the target is at its cap, or (RabbitMQ 3.10) this channel lost track of a quorum queue
                // whose leader died and will refuse it for good; the next copy goes out on a fresh channel
                discardChannel();
            }
            return acked && !returned ? Outcome.CONFIRMED : Outcome.REFUSED;
        } catch (IOException | TimeoutException | RuntimeException e) {
            discardChannel();
            return Outcome.FAILED;
        } catch (InterruptedException e) {
            discardChannel();
            Thread.currentThread().interrupt();
            return Outcome.FAILED;
        }
    }

    private Channel channel() throws IOException {
        if (channel == null || !channel.isOpen()) {
            Channel ch = connection.createChannel();
            ch.confirmSelect();
            ch.addReturnListener(r -> returned = true);
            channel = ch;
        }
        return channel;
    }

    /** After a failure its sequence numbers may no longer match the broker's: the next copy goes on a new one. */
    private void discardChannel() {
        if (channel != null) {
            try {
                channel.abort();
            } catch (IOException | RuntimeException ignored) {
                // already closed
            }
            channel = null;
        }
    }
}
