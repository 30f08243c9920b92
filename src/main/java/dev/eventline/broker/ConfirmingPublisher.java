package dev.eventline.broker;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import org.jboss.logging.Logger;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ShutdownSignalException;

/**
 * Publishes with publisher confirms on a fixed pool of channels. A call publishes all its messages, in order,
 * on one channel (so their order on the broker is the call's order) and returns one future per message that
 * completes when the broker confirms it, or fails with a {@link PublishException} on a nack, a return
 * (unroutable), or a closed channel. The number of unconfirmed publishes is bounded.
 */
public final class ConfirmingPublisher implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(ConfirmingPublisher.class);

    private final Connection connection;
    private final BlockingQueue<ConfirmChannel> idle;
    private final Semaphore unconfirmed;
    /** Why the broker blocked this connection (memory or disk alarm), or null while it is not blocked. */
    private volatile String blocked;

    public ConfirmingPublisher(Connection connection, int channels, int maxUnconfirmed) throws IOException {
        this.connection = connection;
        connection.addBlockedListener(reason -> {
            blocked = reason;
            LOG.warnf("the broker blocked publishing (%s): the gate answers 503 until it unblocks", reason);
        }, () -> {
            blocked = null;
            LOG.info("the broker unblocked publishing");
        });
        // a connection lost while blocked never hears 'unblocked'; a recovered one starts unblocked
        connection.addShutdownListener(cause -> blocked = null);
        this.idle = new ArrayBlockingQueue<>(channels);
        this.unconfirmed = new Semaphore(maxUnconfirmed);
        for (int i = 0; i < channels; i++) {
            idle.add(new ConfirmChannel(connection.createChannel()));
        }
    }

    public boolean isOpen() {
        return connection.isOpen();
    }

    /** @return the broker's reason while it blocks publishing (a resource alarm), else empty */
    public java.util.Optional<String> blocked() {
        return java.util.Optional.ofNullable(blocked);
    }

    /**
     * @param wait how long to wait for a free channel and for confirm capacity
     * @return one future per message, in order
     * @throws PublishException (UNAVAILABLE, SATURATED) when nothing was published
     */
    public List<CompletableFuture<Void>> publish(List<OutgoingMessage> messages, Duration wait) {
        if (!connection.isOpen()) {
            throw new PublishException(PublishException.Kind.UNAVAILABLE, "broker connection is down");
        }
        String alarm = blocked;
        if (alarm != null) {
            // a publish now would hang in the socket until the alarm clears: refuse at once instead
            throw new PublishException(PublishException.Kind.UNAVAILABLE, "the broker blocks publishing: " + alarm);
        }
        long deadline = System.nanoTime() + wait.toNanos();
        try {
            if (!unconfirmed.tryAcquire(messages.size(), wait.toNanos(), TimeUnit.NANOSECONDS)) {
                throw new PublishException(PublishException.Kind.SATURATED,
                        "too many publishes await broker confirms");
            }
            ConfirmChannel channel = idle.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (channel == null) {
                unconfirmed.release(messages.size());
                throw new PublishException(PublishException.Kind.SATURATED, "no publishing channel became free");
            }
            try {
                channel = usable(channel);
                return channel.publish(messages);
            } finally {
                idle.add(channel);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PublishException(PublishException.Kind.UNAVAILABLE, "interrupted");
        }
    }

    /** A channel closed by a channel-level error (e.g. a deleted exchange) is not recovered by the client: replace it. */
    private ConfirmChannel usable(ConfirmChannel channel) {
        if (channel.channel.isOpen() || !connection.isOpen()) {
            return channel;
        }
        try {
            return new ConfirmChannel(connection.createChannel());
        } catch (IOException | RuntimeException e) {
            LOG.debug("cannot replace a closed publishing channel", e);
            return channel;
        }
    }

    @Override
    public void close() {
        try {
            connection.close();
        } catch (IOException | RuntimeException e) {
            LOG.debug("closing the publisher connection", e);
        }
    }

    private record Pending(String messageId, CompletableFuture<Void> future) {
    }

    private final class ConfirmChannel {
        final Channel channel;
        final ConcurrentNavigableMap<Long, Pending> pending = new ConcurrentSkipListMap<>();
        final Set<String> returned = ConcurrentHashMap.newKeySet();

        ConfirmChannel(Channel channel) throws IOException {
            this.channel = channel;
            channel.confirmSelect();
            channel.addConfirmListener((tag, multiple) -> settle(tag, multiple, null),
                    (tag, multiple) -> settle(tag, multiple, new PublishException(PublishException.Kind.REFUSED,
                            "the broker refused the message (a partition queue is full, or the broker is short of resources)")));
            channel.addReturnListener(r -> returned.add(String.valueOf(r.getProperties().getMessageId())));
            channel.addShutdownListener(this::failAll);
        }

        List<CompletableFuture<Void>> publish(List<OutgoingMessage> messages) {
            List<CompletableFuture<Void>> futures = new ArrayList<>(messages.size());
            for (OutgoingMessage m : messages) {
                CompletableFuture<Void> future = new CompletableFuture<>();
                future.whenComplete((ok, error) -> unconfirmed.release());
                futures.add(future);
                long seq = channel.getNextPublishSeqNo();
                pending.put(seq, new Pending(String.valueOf(m.properties().getMessageId()), future));
                try {
                    channel.basicPublish(m.exchange(), m.routingKey(), true, m.properties(), m.body());
                } catch (IOException | RuntimeException e) {
                    pending.remove(seq);
                    future.completeExceptionally(new PublishException(PublishException.Kind.UNAVAILABLE,
                            "publish failed: " + e.getMessage()));
                }
            }
            return futures;
        }

        private void settle(long tag, boolean multiple, PublishException failure) {
            Map<Long, Pending> done = multiple ? pending.headMap(tag, true) : pending.subMap(tag, true, tag, true);
            for (Pending p : List.copyOf(done.values())) {
                if (failure != null) {
                    p.future().completeExceptionally(failure);
                } else if (returned.remove(p.messageId())) {
                    p.future().completeExceptionally(new PublishException(PublishException.Kind.UNROUTABLE,
                            "no partition queue is bound to the exchange"));
                } else {
                    p.future().complete(null);
                }
            }
            done.clear();
        }

        private void failAll(ShutdownSignalException cause) {
            PublishException failure = new PublishException(PublishException.Kind.UNAVAILABLE,
                    "channel closed before the broker confirmed: " + cause.getMessage());
            for (Long seq : List.copyOf(pending.keySet())) {
                Pending p = pending.remove(seq);
                if (p != null) {
                    p.future().completeExceptionally(failure);
                }
            }
            returned.clear();
        }
    }
}
