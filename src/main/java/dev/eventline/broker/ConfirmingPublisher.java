package dev.eventline.broker;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.jboss.logging.Logger;

import com.rabbitmq.client.Connection;

/**
 * Publishes with publisher confirms on a fixed pool of {@link ConfirmChannel}s. A call publishes all its
 * messages, in order, on one channel that it has to itself meanwhile (so their order on the broker is the
 * call's order) and returns one future per message that completes when the broker confirms it, or fails with a
 * {@link PublishException} on a nack, a return (unroutable), a publish that throws, or a closed channel. A
 * channel that broke is replaced by a fresh one before its next use, and so is a channel whose confirms stopped
 * coming (see {@link ConfirmChannel#breakIfStuck}) and one that got a nack (it closes once what it awaits is
 * settled). The number of unconfirmed publishes is bounded.
 * <p>
 * {@link #open} owns a connection without automatic recovery and reopens it itself (see
 * {@link PublisherConnection}): while it is down, {@link #publish} refuses at once.
 */
public final class ConfirmingPublisher implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(ConfirmingPublisher.class);

    private final PublisherConnection connection;
    private final BlockingQueue<ConfirmChannel> idle;
    private final Semaphore unconfirmed;
    /** Channels replaced in the pool while publishes were still pending on them, until those are settled. */
    private final Queue<ConfirmChannel> draining = new ConcurrentLinkedQueue<>();

    /**
     * A publisher on a connection of its own, without the client's automatic recovery, reopened by the
     * publisher at most once per {@code reopenInterval} while it is down.
     *
     * @throws IOException when the broker cannot be reached now
     */
    public static ConfirmingPublisher open(Broker broker, String connectionName, int channels, int maxUnconfirmed,
            Duration reopenInterval) throws IOException, TimeoutException {
        return new ConfirmingPublisher(
                new PublisherConnection(() -> broker.openPublishing(connectionName), reopenInterval), channels,
                maxUnconfirmed);
    }

    /**
     * A publisher on a connection it is given and never reopens (a recovering connection recovers by itself;
     * the publisher then takes fresh channels). Prefer {@link #open}.
     */
    public ConfirmingPublisher(Connection connection, int channels, int maxUnconfirmed) throws IOException {
        this(new PublisherConnection(connection), channels, maxUnconfirmed);
    }

    ConfirmingPublisher(PublisherConnection connection, int channels, int maxUnconfirmed) throws IOException {
        this.connection = connection;
        this.idle = new ArrayBlockingQueue<>(channels);
        this.unconfirmed = new Semaphore(maxUnconfirmed);
        Connection c = connection.current().orElseThrow(() -> new IOException("the broker connection is closed"));
        for (int i = 0; i < channels; i++) {
            idle.add(ConfirmChannel.open(c));
        }
    }

    /** @return whether the connection is open now (while it is not, a reopen is under way) */
    public boolean isOpen() {
        return connection.current().isPresent();
    }

    /** @return the broker's reason while it blocks publishing (a resource alarm), else empty */
    public Optional<String> blocked() {
        return connection.blocked();
    }

    /**
     * @param wait the caller's confirm timeout: how long to wait for a free channel and for confirm capacity,
     *        and how long, from the end of this call, the channel may leave these messages unconfirmed before it
     *        is taken for stuck and replaced (see {@link ConfirmChannel#breakIfStuck})
     * @return one future per message, in order
     * @throws PublishException (UNAVAILABLE, SATURATED) when nothing was published
     */
    public List<CompletableFuture<Void>> publish(List<OutgoingMessage> messages, Duration wait) {
        breakStuck();
        Connection c = connection.current().orElseThrow(() -> unavailable("broker connection is down; reopening it"));
        Optional<String> alarm = connection.blocked();
        if (alarm.isPresent()) {
            // a publish now would hang in the socket until the alarm clears: refuse at once instead
            throw unavailable("the broker blocks publishing: " + alarm.get());
        }
        long deadline = System.nanoTime() + wait.toNanos();
        try {
            if (!unconfirmed.tryAcquire(messages.size(), wait.toNanos(), TimeUnit.NANOSECONDS)) {
                throw new PublishException(PublishException.Kind.SATURATED, "too many publishes await broker confirms");
            }
            ConfirmChannel channel = idle.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (channel == null) {
                unconfirmed.release(messages.size());
                throw new PublishException(PublishException.Kind.SATURATED, "no publishing channel became free");
            }
            return publish(channel, c, messages, wait);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw unavailable("interrupted");
        }
    }

    /**
     * Breaks the idle channels whose confirms stopped, and the replaced ones still draining, which fails their
     * pending publishes and so gives their confirm capacity back; an idle one is replaced when next taken. An
     * idle channel is claimed from the pool before it is broken, so a call that has just taken it never finds
     * it broken under its hands; a channel in use now is checked by a later call.
     */
    private void breakStuck() {
        long now = System.nanoTime();
        for (ConfirmChannel channel : draining) {
            if (channel.breakIfStuck(now)) {
                LOG.warn("a replaced publishing channel left a publish unconfirmed past its confirm timeout: its "
                        + "unconfirmed publishes are failed (senders resend them)");
            }
            if (channel.done()) {
                draining.remove(channel);
            }
        }
        for (ConfirmChannel channel : idle) {
            if (channel.stuck(now) && idle.remove(channel)) {
                try {
                    if (channel.breakIfStuck(now)) {
                        LOG.warn("a publishing channel left a publish unconfirmed past its confirm timeout: its "
                                + "unconfirmed publishes are failed (senders resend them) and a fresh channel takes its place");
                    }
                } finally {
                    idle.add(channel); // a placeholder, replaced when next taken
                }
            }
        }
    }

    /** Publishes on a channel taken from the pool, and puts it (or its replacement) back. */
    private List<CompletableFuture<Void>> publish(ConfirmChannel taken, Connection c, List<OutgoingMessage> messages,
            Duration confirmTimeout) {
        ConfirmChannel channel;
        try {
            channel = usable(taken, c);
        } catch (IOException | RuntimeException e) {
            idle.add(taken); // a placeholder, replaced when next taken
            unconfirmed.release(messages.size());
            throw unavailable("cannot open a publishing channel: " + Broker.reason(e));
        }
        try {
            List<CompletableFuture<Void>> futures = channel.publish(messages, confirmTimeout);
            futures.forEach(f -> f.whenComplete((ok, error) -> unconfirmed.release()));
            return futures;
        } finally {
            idle.add(channel);
        }
    }

    /**
     * The channel taken, or a fresh one in its place when it broke, closed, retired (after a nack) or belongs
     * to a lost connection. The one replaced closes once what is pending on it is settled.
     */
    private ConfirmChannel usable(ConfirmChannel taken, Connection c) throws IOException {
        if (taken.usableOn(c)) {
            return taken;
        }
        ConfirmChannel fresh = ConfirmChannel.open(c);
        taken.closeWhenSettled();
        if (!taken.done()) {
            draining.add(taken);
        }
        return fresh;
    }

    private static PublishException unavailable(String message) {
        return new PublishException(PublishException.Kind.UNAVAILABLE, message);
    }

    @Override
    public void close() {
        connection.close();
    }
}
