package dev.eventline.trigger;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

import org.jboss.logging.Logger;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;

import dev.eventline.broker.Broker;
import dev.eventline.broker.EventCodec;
import dev.eventline.config.FunctionDescription;
import dev.eventline.fault.DeadLetters;
import dev.eventline.fault.Dedup;

/**
 * Consumes one partition queue on one channel with a window of {@code prefetch} deliveries: the broker keeps
 * up to that many events of the partition in flight to this consumer, so the next event is already here when
 * a call returns, but calls stay one at a time, in queue order (the channel dispatches its deliveries one
 * after another). An event is settled (call returned, skipped as a duplicate, dead-lettered or parked in a
 * delay queue, each confirmed first) before its ack, which goes out in batches ({@link PartitionAcks}). An event
 * that is not settled (the consumer stops, its channel ended) stops the consumer, so no later ack can cover
 * it, and it goes back to the head of the queue with everything after it.
 * <p>
 * What happens to each event, retries and dead-lettering included, is {@link PartitionEvents}'s. With
 * {@code keyConcurrency} above 1 calls of different keys run at once instead, on threads of their own, and
 * settle out of order ({@link KeyedDispatch}, {@link KeyedAcks}); the rest holds as below.
 * <p>
 * The channel is never recovered: when it or its connection ends, this consumer is done, and its owner
 * subscribes a new one on a new connection. The partition's handling lock outlives both, so a partition
 * never runs two handler calls at once: the new consumer's first delivery (the event the old one held, given
 * back by the broker) waits until the old call has returned, and is then skipped as a duplicate if that call
 * succeeded. Events settled but not yet acked when a channel ends come back the same way and are skipped as
 * duplicates (in this process; see {@link Dedup}). A message this consumer cannot make sense of, whatever it
 * holds, is dead-lettered with the reason; nothing a message carries can kill the channel.
 */
final class PartitionConsumer extends DefaultConsumer {

    private static final Logger LOG = Logger.getLogger(PartitionConsumer.class);

    private final FunctionDescription fn;
    private final String queue;
    private final PartitionEvents events;
    /** Serialises handling of this partition across consumers (shared with those before and after this one). */
    private final ReentrantLock handling;
    private final CountDownLatch stopping = new CountDownLatch(1);
    private final PartitionAcks acks;
    /** With key concurrency: the calls and the acks; null otherwise. */
    private final KeyedDispatch keyed;
    private final KeyedAcks keyedAcks;
    /** The partition's calls in this process, across its consumers. */
    private final PartitionCalls calls;
    private volatile boolean cancelledByBroker;
    /** Its session is gone: nothing more is settled here, whatever the channel still says (see {@link #abandon}). */
    private volatile boolean abandoned;
    /** nanoTime of the last delivery this consumer got; 0 before the first. */
    private volatile long lastDelivery;

    /** Parked mode: the broker side of held keys; null otherwise. */
    private final KeyParking parking;
    private final FunctionHandling shared;
    private final DeadLetters deadLetters;

    PartitionConsumer(Channel channel, PartitionCalls calls, FunctionDescription fn, String queue,
            FunctionHandling shared, DeadLetters deadLetters, KeyParking parking) throws IOException {
        super(channel);
        this.parking = parking;
        this.shared = shared;
        this.deadLetters = deadLetters;
        this.handling = calls.serial();
        this.calls = calls;
        this.fn = fn;
        this.queue = queue;
        this.events = new PartitionEvents(fn, queue, new Events(), shared, deadLetters);
        this.acks = new PartitionAcks(channel, fn.name(), queue, fn.prefetch(), fn.limits().latencyTarget(),
                shared.progress(), shared.flusher(), this::current, this::isStopping);
        if (fn.keyed()) {
            this.keyedAcks = new KeyedAcks(channel, fn.name(), queue, fn.prefetch(), fn.keyConcurrency(),
                    shared.progress(), shared.flusher(), this::current, this::isStopping);
            KeyedDispatch.Calls handle = new KeyedDispatch.Calls() {
                @Override
                public void handle(Delivery unread) {
                    handleKeyed(unread);
                }

                @Override
                public boolean handleParked(Channel ch, Delivery unread) {
                    return PartitionConsumer.this.handleParked(ch, unread);
                }
            };
            this.keyed = new KeyedDispatch(fn.keyConcurrency(), shared.workers(), calls, keyedAcks, handle,
                    () -> !isStopping() && current(), this::halt, parking, fn.retry().holdAfterDeadLetter(),
                    shared.metrics(), fn.name());
            if (parking != null) {
                keyed.restore(parking.restore()); // what the partition's last owner left held, before any delivery
            }
        } else {
            this.keyedAcks = null;
            this.keyed = null;
        }
    }

    /**
     * Whether this delivery can still be settled here. After its channel went down the broker has already
     * given the event back (to the next consumer of the partition, here or in another instance); further
     * attempts here would run beside that redelivery, so the handling stops, leaving its attempt count in the
     * attempt log.
     */
    private boolean current() {
        return !abandoned && getChannel().isOpen();
    }

    /** @return whether this consumer got a delivery after the given nanoTime */
    boolean deliveredSince(long nanoTime) {
        long last = lastDelivery;
        return last != 0 && last - nanoTime > 0;
    }

    /** @return how long this consumer has held no event, or 0 while it holds one */
    Duration idle() {
        return keyed != null ? keyedAcks.idle() : acks.idle();
    }

    /** The broker cancelled this consumer (its queue was deleted, or a consumer timeout). */
    @Override
    public void handleCancel(String consumerTag) {
        cancelledByBroker = true;
        LOG.warnf("function %s partition %s: the broker cancelled the consumer", fn.name(), queue);
    }

    boolean cancelledByBroker() {
        return cancelledByBroker;
    }

    @Override
    public void handleDelivery(String consumerTag, Envelope envelope, AMQP.BasicProperties properties, byte[] body)
            throws IOException {
        lastDelivery = System.nanoTime();
        if (keyed != null) {
            keyed.arrived(Delivery.unread(envelope.getDeliveryTag(), envelope.isRedeliver(), properties, body),
                    KeyedDispatch.keyOf(properties));
            return;
        }
        acks.arrived();
        handling.lock();
        try {
            if (isStopping() || !current()) {
                return; // not acked: the broker gives it back, in order, when this channel closes
            }
            acks.handling(EventCodec.acceptedAt(properties));
            long begun = System.nanoTime();
            Delivery unread = Delivery.unread(envelope.getDeliveryTag(), envelope.isRedeliver(), properties, body);
            try {
                events.handle(unread);
            } catch (RuntimeException e) {
                events.unexpected(unread, e);
            }
            acks.handled(System.nanoTime() - begun);
        } finally {
            handling.unlock();
            acks.done();
        }
    }

    /** One delivery with key concurrency, on a call thread: whatever happens, it cannot escape the thread. */
    private void handleKeyed(Delivery unread) {
        try {
            if (isStopping() || !current()) {
                return; // not settled: the consumer stops, and the broker gives it back in order
            }
            String released = dev.eventline.broker.Headers.text(unread.properties(), KeyedDispatch.RELEASE);
            if (released != null) {
                // a purge's release of a held key: acked once the key's list says so, never called
                if (keyed.release(KeyedDispatch.keyOf(unread.properties()), released)) {
                    keyedAcks.settled(unread.tag());
                }
                return;
            }
            try {
                events.handle(unread);
            } catch (RuntimeException e) {
                events.unexpected(unread, e);
            }
        } catch (IOException | RuntimeException e) {
            LOG.warnf("function %s partition %s event %s: cannot be settled (%s); it comes back", fn.name(), queue,
                    unread.id(), e.toString());
        }
    }

    /**
     * One parked event of a draining key, taken on {@code ch}, on the key's call thread.
     *
     * @return whether it was settled (acked on {@code ch})
     */
    private boolean handleParked(Channel ch, Delivery unread) {
        Parked parked = new Parked(ch);
        try {
            if (isStopping() || !current()) {
                return false;
            }
            if (dev.eventline.broker.Headers.text(unread.properties(), KeyedDispatch.RELEASE) != null) {
                parked.settled(unread.tag()); // a release that came too late to matter: not an event
                return true;
            }
            PartitionEvents drained = new PartitionEvents(fn, queue, parked, shared, deadLetters);
            try {
                drained.handle(unread);
            } catch (RuntimeException e) {
                drained.unexpected(unread, e);
            }
        } catch (IOException | RuntimeException e) {
            LOG.warnf("function %s partition %s parked event %s: cannot be settled (%s); it goes back to the head of "
                    + "its parked queue", fn.name(), queue, unread.id(), e.toString());
        }
        return parked.settled;
    }

    /**
     * An event ended its call unsettled while this consumer was neither stopping nor abandoned (a failure no
     * outcome covers): nothing after it may start, so the channel is closed, the broker gives back every unacked
     * event in order, and the owner takes the partition anew.
     */
    private void halt() {
        if (isStopping() || !current()) {
            stopping.countDown();
            return;
        }
        stopping.countDown();
        LOG.warnf("function %s partition %s: an event was left unsettled; closing the channel to have the window "
                + "given back in order", fn.name(), queue);
        Broker.closeQuietly(getChannel());
    }

    /** What {@link PartitionEvents} needs of this consumer. */
    private class Events implements PartitionEvents.Partition {
        @Override
        public boolean current() {
            return PartitionConsumer.this.current();
        }

        @Override
        public boolean isStopping() {
            return PartitionConsumer.this.isStopping();
        }

        @Override
        public boolean awaitStop(Duration delay) {
            return PartitionConsumer.this.awaitStop(delay);
        }

        @Override
        public void stopNow() {
            stopping.countDown();
        }

        @Override
        public void settled(long tag) throws IOException {
            if (keyed != null) {
                keyedAcks.settled(tag);
            } else {
                acks.settled(tag);
            }
        }

        @Override
        public void resting(Delivery d, boolean resting) {
            if (keyed != null) {
                keyed.resting(resting);
                if (!(this instanceof Parked)) {
                    keyedAcks.resting(d.tag(), resting); // a parked event's tag is its drain channel's
                }
            }
        }

        @Override
        public void failing(Delivery d, String reason) {
            if (keyed != null) {
                keyed.failing(KeyedDispatch.keyOf(d.properties()), d, reason, this instanceof Parked);
            }
        }

        @Override
        public boolean done(Delivery d, boolean deadLettered, String reason) {
            return keyed == null
                    || keyed.done(KeyedDispatch.keyOf(d.properties()), d.properties().getMessageId(), deadLettered,
                            reason);
        }
    }

    /** A parked event taken back on its drain's channel: settled by an ack there, its key's hooks as above. */
    private final class Parked extends Events {
        private final Channel ch;
        private boolean settled;

        Parked(Channel ch) {
            this.ch = ch;
        }

        @Override
        public boolean current() {
            return super.current() && ch.isOpen();
        }

        @Override
        public void settled(long tag) throws IOException {
            ch.basicAck(tag, false);
            settled = true;
        }
    }

    private boolean isStopping() {
        return stopping.getCount() == 0;
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
     * Its session is gone (a connection was lost, or dropped by the owner): nothing more is settled or acked
     * here, also before the client has marked the channel closed (an aborted connection's channels close only
     * when its reader thread notices), and a call in progress finishes on its own without an ack. The broker
     * gives back everything unacked, to whichever instance takes the partition next.
     */
    void abandon() {
        abandoned = true;
        stop(Duration.ZERO);
    }

    /**
     * Stops taking events, waits (bounded) for the handler call in progress, if any, to finish, and acks what
     * is settled; the rest of the window goes back to the head of the queue when the channel closes.
     */
    void stop(Duration wait) {
        stopping.countDown();
        if (keyed != null) {
            long deadline = System.nanoTime() + wait.toNanos();
            // its own calls, then those of the partition's earlier consumers here (after a lost connection)
            boolean ended = keyed.awaitCalls(wait)
                    && calls.awaitIdle(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
            if (!ended) {
                LOG.warnf("function %s partition %s: handler calls still running after %s; their events will be "
                        + "redelivered", fn.name(), queue, wait);
            }
            if (parking != null) {
                keyed.awaitParkers(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
                parking.close(); // nothing more parked: an event being parked now stays unacked, and comes back
            }
            keyed.stopped();
            keyedAcks.release(); // what is settled: an ack never covers an event still in a call
            return;
        }
        try {
            if (handling.tryLock(wait.toMillis(), TimeUnit.MILLISECONDS)) {
                try {
                    acks.release();
                    return;
                } finally {
                    handling.unlock();
                }
            }
            LOG.warnf("function %s partition %s: handler still running after %s; its event will be redelivered",
                    fn.name(), queue, wait);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        acks.releaseProgress();
    }
}
