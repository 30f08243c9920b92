package dev.eventline.fault;

import java.io.IOException;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeoutException;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;

/**
 * Sends an event that will not be processed to its function's dead-letter exchange, with its history in
 * headers, and waits for the broker's confirm, so the caller acks the original only once the copy is safe.
 * If the copy cannot be confirmed the caller rejects the original instead, and the partition queue's own
 * dead-lettering (at-least-once, {@code x-dead-letter-exchange}) moves it, without our headers.
 */
public final class DeadLetters {

    public static final String ATTEMPTS = "eventline-attempts";
    public static final String REASON = "eventline-reason";
    public static final String ERROR_CLASS = "eventline-error-class";
    public static final String ERROR_MESSAGE = "eventline-error-message";
    public static final String FIRST_FAILURE = "eventline-first-failure";
    public static final String LAST_FAILURE = "eventline-last-failure";
    public static final String ORIGINAL_QUEUE = "eventline-original-queue";

    private static final int MAX_MESSAGE = 1000;

    private final Channel channel;
    private final String exchange;
    private final long confirmTimeoutMillis;

    /** @param channel a channel of its own, used only by this object, from one thread at a time */
    public DeadLetters(Channel channel, String exchange, long confirmTimeoutMillis) throws IOException {
        this.channel = channel;
        this.exchange = exchange;
        this.confirmTimeoutMillis = confirmTimeoutMillis;
        channel.confirmSelect();
    }

    /** Why an event failed, and when. */
    public record Failure(String reason, Throwable error, int attempts, Instant first, Instant last) {
    }

    /** @return true when the broker confirmed the dead-lettered copy */
    public synchronized boolean send(String queue, AMQP.BasicProperties original, byte[] body, Failure failure) {
        Map<String, Object> headers = new HashMap<>();
        if (original.getHeaders() != null) {
            headers.putAll(original.getHeaders());
        }
        headers.put(REASON, failure.reason());
        headers.put(ATTEMPTS, failure.attempts());
        headers.put(ORIGINAL_QUEUE, queue);
        headers.put(FIRST_FAILURE, failure.first().toString());
        headers.put(LAST_FAILURE, failure.last().toString());
        if (failure.error() != null) {
            headers.put(ERROR_CLASS, failure.error().getClass().getName());
            String message = String.valueOf(failure.error().getMessage());
            headers.put(ERROR_MESSAGE, message.length() > MAX_MESSAGE ? message.substring(0, MAX_MESSAGE) : message);
        }
        AMQP.BasicProperties properties = original.builder().headers(headers).deliveryMode(2).build();
        try {
            channel.basicPublish(exchange, "", true, properties, body);
            return channel.waitForConfirms(confirmTimeoutMillis);
        } catch (IOException | TimeoutException | RuntimeException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
