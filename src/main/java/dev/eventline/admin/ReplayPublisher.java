package dev.eventline.admin;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import com.rabbitmq.client.Connection;

import dev.eventline.broker.ConfirmChannel;
import dev.eventline.broker.OutgoingMessage;
import dev.eventline.broker.PublishException;

/**
 * Publishes replayed events one at a time and waits for each confirm, with the gate's confirm bookkeeping
 * ({@link ConfirmChannel}): a publish that throws, or a confirm that does not come, retires the channel, so the
 * next event goes out on a fresh one and is never judged by another event's confirm.
 */
final class ReplayPublisher implements AutoCloseable {

    private static final long CONFIRM_TIMEOUT_MILLIS = 10_000;

    private final Connection connection;
    private ConfirmChannel channel;

    ReplayPublisher(Connection connection) {
        this.connection = connection;
    }

    /** @return null when the broker confirmed the message, else why it did not */
    PublishException publish(OutgoingMessage message) throws IOException {
        if (channel == null || !channel.usable()) {
            close();
            channel = ConfirmChannel.open(connection);
        }
        CompletableFuture<Void> confirm = channel.publish(List.of(message)).get(0);
        try {
            confirm.get(CONFIRM_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
            return null;
        } catch (ExecutionException e) {
            return e.getCause() instanceof PublishException p ? p : unavailable(String.valueOf(e.getCause()));
        } catch (TimeoutException e) {
            close();
            return unavailable("no broker confirm within " + CONFIRM_TIMEOUT_MILLIS + " ms");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close();
            return unavailable("interrupted");
        }
    }

    private static PublishException unavailable(String message) {
        return new PublishException(PublishException.Kind.UNAVAILABLE, message);
    }

    @Override
    public void close() {
        if (channel != null) {
            channel.close();
            channel = null;
        }
    }
}
