package dev.eventline.broker;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.jboss.logging.Logger;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ShutdownSignalException;

/**
 * One channel in confirm mode and the futures of its unconfirmed publishes, keyed by the sequence number the
 * broker gives them. The bookkeeping cannot drift:
 * <ul>
 * <li>the sequence number is read and the message published under this object's lock, and each number is
 * checked against the count of publishes that really went out;</li>
 * <li>a publish that throws (the client counts a sequence number before it encodes the frame, so the broker
 * and the client now disagree) breaks the channel: every publish pending on it fails, the rest of the call is
 * not published, and the channel is closed, never used again;</li>
 * <li>a channel that shut down for any reason is never used again either (a recovered channel would restart
 * its numbering), see {@link #usable()}.</li>
 * </ul>
 * Failed means "not known to be stored": a publish that the broker may have stored can be reported failed (a
 * resend is then a duplicate, which consumers skip), never the other way round.
 */
public final class ConfirmChannel {

    private final Channel channel;
    private final ConcurrentNavigableMap<Long, Pending> pending = new ConcurrentSkipListMap<>();
    private final Set<String> returned = ConcurrentHashMap.newKeySet();
    /** Sequence number of the next publish, counting only publishes that went out. Guarded by this. */
    private long next = 1;
    private volatile boolean broken;
    /** Takes no new publishes, and closes once the broker settled those pending (see {@link #closeWhenSettled}). */
    private volatile boolean retiring;
    /** Given up by its owner ({@link #closeWhenSettled}): never published on again, closes once settled. */
    private volatile boolean handedOff;
    private final AtomicBoolean aborted = new AtomicBoolean();

    /** @param batch the publish call it went out in, whose confirm deadline it shares */
    private record Pending(String messageId, CompletableFuture<Void> future, Batch batch) {
    }

    /**
     * One publish call's confirm deadline ({@link System#nanoTime}): set once the call has written its last
     * message, so a large batch's own writing time does not count against it; none until then.
     */
    private static final class Batch {
        private long deadline;
        /** Written after {@link #deadline}: reading it true makes the deadline visible. */
        private volatile boolean due;

        void due(long deadlineNanos) {
            deadline = deadlineNanos;
            due = true;
        }

        boolean overdue(long nowNanos) {
            return due && nowNanos - deadline > 0;
        }
    }

    private ConfirmChannel(Channel channel) {
        this.channel = channel;
    }

    /** Opens a channel on the connection and puts it in confirm mode. */
    public static ConfirmChannel open(Connection connection) throws IOException {
        Channel channel = connection.createChannel();
        if (channel == null) {
            throw new IOException("the connection has no free channel number");
        }
        ConfirmChannel c = new ConfirmChannel(channel);
        channel.addShutdownListener(c::shutdown);
        channel.addConfirmListener((tag, multiple) -> c.settle(tag, multiple, null),
                (tag, multiple) -> c.settle(tag, multiple, new PublishException(PublishException.Kind.REFUSED,
                        "the broker refused the message (a partition queue is full, or the broker is short of resources)")));
        channel.addReturnListener(r -> c.returned.add(String.valueOf(r.getProperties().getMessageId())));
        try {
            channel.confirmSelect();
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
        return c;
    }

    /** @return whether the channel can take more publishes: open, on this connection, never broken */
    public boolean usableOn(Connection connection) {
        return usable() && channel.getConnection() == connection;
    }

    /** @return whether the channel can take more publishes: open, never broken or shut down, not retiring */
    public boolean usable() {
        return !broken && !retiring && channel.isOpen();
    }

    /**
     * Takes no new publishes from now on, and closes the channel once every publish pending on it is settled
     * (at once when none is): a channel replaced in the pool leaves without failing what it still awaits. A
     * retiring channel whose confirms stop is broken by {@link #breakIfStuck} like any other.
     */
    public void closeWhenSettled() {
        retiring = true;
        handedOff = true;
        closeIfSettled();
    }

    /** @return whether the channel is closed or closing (by this side or the broker's), and nothing is pending */
    public boolean done() {
        return (aborted.get() || broken || !channel.isOpen()) && pending.isEmpty();
    }

    /**
     * Closes a channel its owner gave up once nothing is pending: only then, because until the owner has
     * replaced it a call may still be starting on it (a nack does not close the channel, it retires it).
     */
    private void closeIfSettled() {
        if (handedOff && pending.isEmpty() && aborted.compareAndSet(false, true)) {
            Closer.close(channel);
        }
    }

    /**
     * Publishes the messages in order (persistent as their properties say, mandatory), with no confirm
     * deadline: the caller judges a missing confirm itself (see {@link #publish(List, Duration)}).
     *
     * @return one future per message, in order; each completes when the broker confirms the message, or fails
     *         with a {@link PublishException}. None is left incomplete unless the broker never answers.
     */
    public List<CompletableFuture<Void>> publish(List<OutgoingMessage> messages) {
        return publish(messages, null);
    }

    /**
     * The same, and the messages' confirms are due within {@code confirmTimeout} of this call's end: once the
     * oldest publish still pending is past its deadline, {@link #breakIfStuck} breaks the channel.
     *
     * @param confirmTimeout how long the caller waits for these confirms; null for no deadline
     */
    public synchronized List<CompletableFuture<Void>> publish(List<OutgoingMessage> messages, Duration confirmTimeout) {
        Batch batch = new Batch();
        List<CompletableFuture<Void>> futures = new ArrayList<>(messages.size());
        for (OutgoingMessage m : messages) {
            CompletableFuture<Void> future = new CompletableFuture<>();
            futures.add(future);
            // not usable(): a nack for an earlier message retires the channel, and this call still finishes
            if (broken || !channel.isOpen()) {
                future.completeExceptionally(unavailable("not published: the publishing channel closed"));
            } else {
                publish(m, future, batch);
            }
        }
        if (confirmTimeout != null) {
            batch.due(System.nanoTime() + confirmTimeout.toNanos());
        }
        return futures;
    }

    private void publish(OutgoingMessage m, CompletableFuture<Void> future, Batch batch) {
        long seq = channel.getNextPublishSeqNo();
        if (seq != next) {
            future.completeExceptionally(unavailable("not published: the channel's confirm numbering moved"));
            breakChannel("its sequence number is " + seq + " where " + next + " publishes went out");
            return;
        }
        pending.put(seq, new Pending(String.valueOf(m.properties().getMessageId()), future, batch));
        try {
            channel.basicPublish(m.exchange(), m.routingKey(), true, m.properties(), m.body());
            next++;
        } catch (IOException | RuntimeException e) {
            pending.remove(seq);
            future.completeExceptionally(failure(e));
            breakChannel("a publish failed: " + Broker.reason(e));
        }
    }

    /** An encoding failure is the message's own fault: resending it as is fails again. */
    private static PublishException failure(Exception e) {
        return e instanceof IllegalArgumentException
                ? new PublishException(PublishException.Kind.UNPUBLISHABLE, "the message cannot be encoded: "
                        + e.getMessage())
                : unavailable("publish failed: " + Broker.reason(e));
    }

    private void breakChannel(String why) {
        broken = true;
        failPending("not confirmed: the publishing channel was closed because " + why);
        if (aborted.compareAndSet(false, true)) {
            Closer.close(channel);
        }
    }

    /**
     * Closes broken channels off the caller's thread: {@code abort} waits for the broker's close-ok for up to
     * the connection's channel RPC timeout (the client's default is 10 minutes; the gate's publishing
     * connection sets a short one, see {@link Broker#openPublishing}), and a request's worker thread must not
     * wait for it. Up to 4 daemon threads, started when needed; when 256 closes wait already, a channel is
     * left open, unused, until its connection closes, and that is logged.
     */
    private static final class Closer {
        private static final Logger LOG = Logger.getLogger(ConfirmChannel.class);
        private static final ThreadPoolExecutor EXECUTOR = new ThreadPoolExecutor(4, 4, 30, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(256), r -> {
                    Thread t = new Thread(r, "eventline-channel-closer");
                    t.setDaemon(true);
                    return t;
                }, (task, pool) -> LOG.warn("256 publishing channels await their close already: one more is left "
                        + "open, unused, until its connection closes"));

        static {
            EXECUTOR.allowCoreThreadTimeOut(true);
        }

        static void close(Channel channel) {
            EXECUTOR.execute(() -> {
                try {
                    channel.abort();
                } catch (IOException | RuntimeException e) {
                    // closed meanwhile: nothing left to close
                }
            });
        }
    }

    /** @return whether the oldest publish still pending is past its confirm deadline (no lock taken) */
    public boolean stuck(long nowNanos) {
        return overdue(nowNanos) != null;
    }

    /** @return the oldest publish still pending when it is past its confirm deadline, else null */
    private Map.Entry<Long, Pending> overdue(long nowNanos) {
        Map.Entry<Long, Pending> oldest = pending.firstEntry();
        return !broken && oldest != null && oldest.getValue().batch().overdue(nowNanos) ? oldest : null;
    }

    /**
     * Breaks the channel when the oldest publish still pending is past its confirm deadline (see
     * {@link #publish(List, Duration)}): a channel whose confirms stopped (a queue that lost its leader and never
     * told this channel, a broker bug) would otherwise hold its publishes, and the publisher's capacity for
     * them, for ever. Its pending publishes fail (not known to be stored), and the pool replaces it. A confirm
     * that comes later finds nothing to settle.
     *
     * @return whether it broke the channel now
     */
    public synchronized boolean breakIfStuck(long nowNanos) {
        Map.Entry<Long, Pending> oldest = overdue(nowNanos);
        if (oldest == null) {
            return false;
        }
        breakChannel("the broker left publish " + oldest.getKey() + " unconfirmed past its confirm timeout");
        return true;
    }

    /** Fails what is still pending and closes the channel; idempotent. */
    public void close() {
        breakChannel("it was closed");
    }

    /**
     * Settles what a confirm covers. A nack also retires the channel (no new call; its owner replaces it): the
     * broker refuses for a queue at its cap, but also, on RabbitMQ 3.10, when this channel's first publish to a
     * quorum queue finds the leader it has on record down, and then for every later publish to that queue on
     * this channel (the fault matrix saw two minutes of refusals for an empty queue with a new leader); a fresh
     * channel reads the current leader.
     */
    private void settle(long tag, boolean multiple, PublishException failure) {
        if (failure != null) {
            retiring = true;
        }
        Map<Long, Pending> done = multiple ? pending.headMap(tag, true) : pending.subMap(tag, true, tag, true);
        for (Map.Entry<Long, Pending> e : List.copyOf(done.entrySet())) {
            if (pending.remove(e.getKey(), e.getValue())) {
                complete(e.getValue(), failure);
            }
        }
        closeIfSettled();
    }

    private void complete(Pending p, PublishException failure) {
        if (failure != null) {
            p.future().completeExceptionally(failure);
        } else if (returned.remove(p.messageId())) {
            p.future().completeExceptionally(new PublishException(PublishException.Kind.UNROUTABLE,
                    "no queue is bound to the exchange for this message"));
        } else {
            p.future().complete(null);
        }
    }

    private void shutdown(ShutdownSignalException cause) {
        broken = true;
        failPending("channel closed before the broker confirmed: " + Broker.reason(cause));
    }

    private void failPending(String why) {
        PublishException failure = unavailable(why);
        for (Long seq : List.copyOf(pending.keySet())) {
            Pending p = pending.remove(seq);
            if (p != null) {
                p.future().completeExceptionally(failure);
            }
        }
        returned.clear();
    }

    private static PublishException unavailable(String message) {
        return new PublishException(PublishException.Kind.UNAVAILABLE, message);
    }
}
