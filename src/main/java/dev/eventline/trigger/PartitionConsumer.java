package dev.eventline.trigger;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;

import dev.eventline.broker.FunctionProgress;
import dev.eventline.broker.EventCodec;
import dev.eventline.config.FunctionDescription;
import dev.eventline.fault.DeadLetters;
import dev.eventline.fault.Dedup;
import dev.eventline.fault.RetryPolicy;
import dev.eventline.metrics.PipelineMetrics;
import io.quarkus.funqy.runtime.FunctionInvoker;

/**
 * Consumes one partition queue on one channel with a window of {@code prefetch} deliveries: the broker keeps
 * up to that many events of the partition in flight to this consumer, so the next event is already here when
 * a call returns, but calls stay one at a time, in queue order (the channel dispatches its deliveries one
 * after another). An event is settled (call returned, skipped as a duplicate, dead-lettered or parked in a
 * delay queue, each confirmed first) before its ack; acks go out with {@code multiple} every
 * {@code max(1, prefetch / 4)} settled events and within {@link #ACK_DELAY} of the last, and before the
 * partition is handed back; for a slow handler the latest settled ones are held back while the partition
 * flows, so that what waits in the window holds at most a share of the latency target ({@link AckWindow}).
 * Since events are settled in order, one ack with {@code multiple} covers exactly the settled ones; an event
 * that is not settled (the consumer stops, its channel ended) stops the consumer, so no later ack can cover
 * it, and it goes back to the head of the queue with everything after it.
 * <p>
 * The channel is never recovered: when it or its connection ends, this consumer is done, and its owner
 * subscribes a new one on a new connection. The partition's handling lock outlives both, so a partition
 * never runs two handler calls at once: the new consumer's first delivery (the event the old one held, given
 * back by the broker) waits until the old call has returned, and is then skipped as a duplicate if that call
 * succeeded. Events settled but not yet acked when a channel ends come back the same way and are skipped as
 * duplicates (in this process; see {@link Dedup}). A message this consumer cannot make sense of, whatever it
 * holds, is dead-lettered with the reason; nothing a message carries can kill the channel.
 * <p>
 * Failures (docs/failure-model.md "Failure model"): an event that can never succeed is dead-lettered at once; a failed or
 * timed-out call is retried with backoff, in place (strict mode: the partition waits) or from a delay queue
 * (relaxed mode: the partition moves on), until the function's attempt budget is spent, and then
 * dead-lettered. Attempts made before a crash count: the event carries them in a header (relaxed mode), the
 * quorum queue counts redeliveries ({@code x-delivery-count}), and this process remembers its own.
 */
final class PartitionConsumer extends DefaultConsumer {

    private static final Logger LOG = Logger.getLogger(PartitionConsumer.class);
    /** Between tries to dead-letter into a full dead-letter queue. */
    private static final Duration FULL_DLQ_PAUSE = Duration.ofSeconds(2);
    /** Longest an ack of a settled event waits for more to go out with it. */
    static final Duration ACK_DELAY = Duration.ofMillis(2);
    /** The events waiting in a window hold at most the latency target over this of work (see {@link AckWindow}). */
    static final int WINDOW_SHARE_OF_TARGET = 4;

    private final FunctionDescription fn;
    private final String queue;
    private final FunctionInvokers invokers;
    private final DeadLetters deadLetters;
    private final HandlerCalls calls;
    private final Dedup dedup;
    private final AttemptLog attemptLog;
    private final RetryPolicy retry;
    private final PipelineMetrics metrics;
    private final ObjectMapper json;
    private final EventCodec codec;
    private final FunctionProgress progress;
    /** Serialises handling of this partition across consumers (shared with those before and after this one). */
    private final ReentrantLock handling;
    private final CountDownLatch stopping = new CountDownLatch(1);
    private volatile boolean crashed;
    /** nanoTime of the last delivery taken or finished, for the owner's stall check. */
    private volatile long lastActivity = System.nanoTime();
    /** nanoTime of the last delivery this consumer got; 0 before the first. */
    private volatile long lastDelivery;
    private volatile boolean inHand;

    /** Guards the ack state below; acks go out from the delivery thread, the flusher and a stopping owner. */
    private final Object acks = new Object();
    private final ScheduledExecutorService flusher;
    /** Settled events not yet acked, and how many of them to keep so while a call is in progress. */
    private final AckWindow window;
    private boolean flushScheduled;
    /** A check that releases held acks once the partition is quiet, or its call has run long, is scheduled. */
    private boolean holdCheckScheduled;
    /** Acceptance time of the delivery in hand, whether it is settled already, and since when it is in hand. */
    private long inHandAcceptedAt;
    private boolean inHandSettled;
    private long inHandSince;
    /** Set when stopped: the partition's progress entry is no longer this consumer's to write. */
    private boolean released;

    PartitionConsumer(Channel channel, ReentrantLock handling, FunctionDescription fn, String queue,
            FunctionInvokers invokers, DeadLetters deadLetters, HandlerCalls calls, Dedup dedup, AttemptLog attemptLog,
            PipelineMetrics metrics, ObjectMapper json, EventCodec codec, FunctionProgress progress,
            ScheduledExecutorService flusher) {
        super(channel);
        this.flusher = flusher;
        this.window = new AckWindow(fn.prefetch(), Math.max(1, fn.prefetch() / 4),
                fn.limits().latencyTarget().dividedBy(WINDOW_SHARE_OF_TARGET));
        this.handling = handling;
        this.fn = fn;
        this.queue = queue;
        this.invokers = invokers;
        this.deadLetters = deadLetters;
        this.calls = calls;
        this.dedup = dedup;
        this.attemptLog = attemptLog;
        this.retry = RetryPolicy.of(fn);
        this.metrics = metrics;
        this.json = json;
        this.codec = codec;
        this.progress = progress;
    }

    /**
     * Whether this delivery can still be settled here. After its channel went down the broker has already
     * given the event back (to the next consumer of the partition, here or in another instance); further
     * attempts here would run beside that redelivery, so the handling stops, leaving its attempt count in the
     * attempt log.
     */
    private boolean current() {
        return !crashed && getChannel().isOpen();
    }

    /** @return whether this consumer got a delivery after the given nanoTime */
    boolean deliveredSince(long nanoTime) {
        long last = lastDelivery;
        return last != 0 && last - nanoTime > 0;
    }

    /** @return how long this consumer has held no event, or 0 while it holds one */
    Duration idle() {
        return inHand ? Duration.ZERO : Duration.ofNanos(System.nanoTime() - lastActivity);
    }

    private volatile boolean cancelledByBroker;

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
        inHand = true;
        lastDelivery = System.nanoTime();
        handling.lock();
        try {
            if (isStopping() || !current()) {
                return; // not acked: the broker gives it back, in order, when this channel closes
            }
            holding(EventCodec.acceptedAt(properties));
            long begun = System.nanoTime();
            try {
                handle(envelope.getDeliveryTag(), envelope.isRedeliver(), properties, body);
            } catch (RuntimeException e) {
                unexpected(envelope.getDeliveryTag(), properties, body, e);
            }
            synchronized (acks) {
                window.measured(System.nanoTime() - begun);
                if (!released) {
                    progress.window(queue, window.window(), window.callNanos());
                }
            }
        } finally {
            handling.unlock();
            lastActivity = System.nanoTime();
            inHand = false;
            afterDelivery();
        }
    }

    /**
     * A delivery is in hand: events are settled in queue order, so it is the partition's oldest event not done
     * (those before it are settled, some perhaps not yet acked); its age is the partition's lag.
     */
    private void holding(long acceptedAt) {
        long at = acceptedAt > 0 ? acceptedAt : System.currentTimeMillis();
        synchronized (acks) {
            inHandAcceptedAt = at;
            inHandSettled = false;
            inHandSince = System.nanoTime();
            if (!released) {
                progress.started(queue, at);
            }
        }
    }

    /** After a delivery: settled events not yet acked go out within {@link #ACK_DELAY}, with any that follow. */
    private void afterDelivery() {
        synchronized (acks) {
            if (window.settledCount() == 0 || flushScheduled) {
                return;
            }
            flushScheduled = true;
        }
        schedule(() -> flushQuietly(false), ACK_DELAY);
    }

    private void schedule(Runnable flush, Duration delay) {
        try {
            flusher.schedule(flush, delay.toNanos(), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            flushQuietly(true); // the function is stopping: ack now
        }
    }

    private void flushQuietly(boolean everything) {
        try {
            flush(everything);
        } catch (IOException | RuntimeException e) {
            LOG.debugf(e, "function %s partition %s: ack failed (the events come back and are skipped)", fn.name(),
                    queue);
        }
    }

    /**
     * Acks settled events with one ack with {@code multiple}: all of them when stopping, or once the partition
     * has been quiet for {@link AckWindow#QUIET} (nothing in hand), or when one call has run for
     * {@link AckWindow#MAX_HOLD}; otherwise all but those {@link AckWindow} holds, and a check follows after
     * {@link AckWindow#QUIET} while any are held. Without a channel nothing is acked: the broker gives those
     * events back and they are skipped as duplicates.
     */
    private void flush(boolean everything) throws IOException {
        boolean check = false;
        synchronized (acks) {
            if (!everything) {
                flushScheduled = false;
            }
            if (window.settledCount() == 0 || !current()) {
                return;
            }
            long now = System.nanoTime();
            // a delivery in hand, or one that ended a moment ago, means more of the window follows (a broker slow
            // to refill the window leaves short gaps: releasing what is held there would open it wide)
            boolean flowing = inHand ? now - inHandSince < AckWindow.MAX_HOLD.toNanos()
                    : now - lastActivity < AckWindow.QUIET.toNanos();
            long tag = window.take(!everything && !isStopping() && flowing);
            if (tag != 0) {
                getChannel().basicAck(tag, true);
                progress.completed(window.lastTaken());
            }
            if (window.settledCount() > 0 && !holdCheckScheduled) {
                holdCheckScheduled = check = true;
            }
            if (!released && !(inHand && !inHandSettled)) {
                progress.finished(queue);
            }
        }
        if (check) {
            schedule(this::holdCheck, AckWindow.QUIET);
        }
    }

    /** Held acks: released once the partition is quiet, or checked again. */
    private void holdCheck() {
        synchronized (acks) {
            holdCheckScheduled = false;
        }
        flushQuietly(false);
    }

    /**
     * Whatever went wrong outside the handler call (a message no rule foresaw): dead-lettered with the error
     * as its reason, so it neither kills the channel nor comes back forever.
     */
    private void unexpected(long tag, AMQP.BasicProperties properties, byte[] body, RuntimeException e)
            throws IOException {
        LOG.debugf(e, "function %s partition %s: unexpected failure", fn.name(), queue);
        if (!current()) {
            return;
        }
        Instant now = Instant.now();
        deadLetter(tag, properties, body, properties.getMessageId(), null,
                new DeadLetters.Failure("rejected: cannot be handled: " + e, e, 0, now, now));
    }

    private void handle(long tag, boolean redelivered, AMQP.BasicProperties properties, byte[] body)
            throws IOException {
        String id = properties.getMessageId();
        int carried = intHeader(properties, DeadLetters.ATTEMPTS);
        ObjectNode event;
        FunctionInvoker invoker;
        FunqyCall call;
        try {
            event = codec.decode(body);
            for (String required : new String[] {"id", "source", "type"}) {
                if (!event.path(required).isTextual() || event.get(required).asText().isEmpty()) {
                    throw new IllegalArgumentException("not a CloudEvent: '" + required
                            + "' is missing or not a non-empty string");
                }
            }
            String bounds = EventAttributes.problem(event);
            if (bounds != null) {
                throw new IllegalArgumentException(bounds);
            }
            String type = event.get("type").asText();
            id = event.get("id").asText();
            if (!fn.eventTypes().contains(type)) {
                throw new IllegalArgumentException("event type '" + type + "' is not owned by function " + fn.name());
            }
            invoker = invokers.forType(type).orElseThrow(
                    () -> new IllegalArgumentException("no @Funq method for event type '" + type + "'"));
            call = new FunqyCall(invoker, event, json);
        } catch (IllegalArgumentException e) {
            Instant now = Instant.now();
            deadLetter(tag, properties, body, id, null,
                    new DeadLetters.Failure("rejected: " + e.getMessage(), e, carried, now, now));
            return;
        }
        String key = Dedup.key(event.path("source").asText(), id);
        if (dedup.seen(key)) {
            LOG.debugf("function %s partition %s event %s: already processed, skipped", fn.name(), queue, id);
            ack(tag);
            metrics.duplicate(fn.name());
            return;
        }
        if (attemptLog.isStaleOriginal(key, redelivered)) {
            LOG.debugf("function %s partition %s event %s: already moved on before its channel closed; acked",
                    fn.name(), queue, id);
            ack(tag);
            return;
        }
        // attempts before this delivery: carried in a header (relaxed mode), counted by this process (a lost
        // connection), or one per earlier delivery (x-delivery-count, after a crash). Every delivery still gets
        // at least one call: a redelivery may not have been tried (handed back on a graceful stop), and
        // deliveries that keep killing their consumer are stopped by the queue's delivery limit
        int prior = Math.min(retry.maxAttempts() - 1,
                Math.max(carried + intHeader(properties, "x-delivery-count"), attemptLog.get(key)));
        Instant first = instantHeader(properties, DeadLetters.FIRST_FAILURE);
        final FunctionInvoker target = invoker;
        for (int attempt = prior + 1;; attempt++) {
            long start = System.nanoTime();
            boolean succeeded;
            if (attempt > prior + 1 && dedup.seen(key)) {
                // an abandoned (timed-out) attempt finished successfully meanwhile: done, not called again
                ack(tag);
                metrics.duplicate(fn.name());
                attemptLog.forget(key);
                return;
            }
            try {
                if (!calls.run(key, id, fn.timeout(), this::isStopping, () -> call.run(target, fn.timeout()))) {
                    return; // stopping before the call could start: not acked, back to the queue in place
                }
                succeeded = true;
            } catch (Throwable t) {
                succeeded = false;
                if (!(t instanceof HandlerCalls.StillRunning)) {
                    metrics.handlerTime(fn.name(), Duration.ofNanos(System.nanoTime() - start));
                }
                if (t instanceof InterruptedException) {
                    stopping.countDown(); // this consumer is being shut down: not acked, nor anything after it
                    return;
                }
                Instant now = Instant.now();
                first = first == null ? now : first;
                if (retry.nonRetryable(t)) {
                    deadLetter(tag, properties, body, id, key,
                            new DeadLetters.Failure("non-retryable: " + t, t, attempt, first, now));
                    return;
                }
                LOG.warnf("function %s partition %s event %s: attempt %d of %d failed: %s", fn.name(), queue, id,
                        attempt, retry.maxAttempts(), t.toString());
                LOG.debug("handler failure", t);
                attemptLog.failed(key, attempt);
                if (!current()) {
                    return; // redelivered meanwhile: the redelivery goes on counting from the attempt log
                }
                if (retry.exhausted(attempt)) {
                    deadLetter(tag, properties, body, id, key,
                            new DeadLetters.Failure("retries exhausted", t, attempt, first, now));
                    return;
                }
                metrics.retried(fn.name());
                Duration delay = retry.delayAfter(attempt);
                if (fn.retry().mode() == FunctionDescription.RetryMode.RELAXED
                        && delayed(tag, properties, body, id, key, new DeadLetters.Failure(null, t, attempt, first, now),
                                delay)) {
                    return;
                }
                if (awaitStop(delay) || !current()) {
                    return; // stopping or redelivered: not acked here, the event goes back in place
                }
            }
            if (succeeded) {
                metrics.handlerTime(fn.name(), Duration.ofNanos(System.nanoTime() - start));
                dedup.record(key);
                attemptLog.forget(key);
                if (current()) {
                    ack(tag); // should the ack not arrive, the redelivered copy is skipped as a duplicate
                    measure(properties, event);
                }
                return;
            }
        }
    }

    /** Relaxed mode: parks the event in its delay queue and acks it; @return false to retry in place instead. */
    private boolean delayed(long tag, AMQP.BasicProperties properties, byte[] body, String id, String key,
            DeadLetters.Failure failure, Duration delay) throws IOException {
        int level = Math.min(failure.attempts(), fn.retry().delayLevels());
        DeadLetters.Outcome outcome = deadLetters.delay(queue, properties, body, failure, level, delay.toMillis());
        if (outcome != DeadLetters.Outcome.CONFIRMED) {
            LOG.warnf("function %s partition %s event %s: the delay queue did not take it (%s); retrying in place",
                    fn.name(), queue, id, outcome);
            return false;
        }
        if (current()) {
            attemptLog.forget(key);
            ack(tag);
        } else {
            attemptLog.copiedOut(key, failure.attempts());
        }
        return true;
    }

    /**
     * Moves the event to the dead-letter queue, then acks it. A full dead-letter queue refuses it: the event
     * then stays here, unacked, and the partition waits (pressure an operator sees in the logs, the
     * {@code eventline_dead_letter_blocked_partitions} gauge and the partition's depth) until there is room.
     * Without an answer from the broker, the copy is sent again (the dead-letter queue may then hold it twice).
     */
    private void deadLetter(long tag, AMQP.BasicProperties properties, byte[] body, String id, String key,
            DeadLetters.Failure failure) throws IOException {
        LOG.warnf("function %s partition %s event %s: dead-lettering after %d attempts (%s)", fn.name(), queue, id,
                failure.attempts(), failure.reason());
        boolean blocked = false;
        try {
            for (;;) {
                DeadLetters.Outcome outcome = deadLetters.send(queue, properties, body, failure);
                if (outcome == DeadLetters.Outcome.CONFIRMED) {
                    if (!current()) {
                        if (key != null) {
                            attemptLog.copiedOut(key, failure.attempts());
                        }
                        metrics.processed(fn.name(), "dead-lettered");
                        return;
                    }
                    ack(tag);
                    break;
                }
                if (outcome == DeadLetters.Outcome.FAILED) {
                    // no answer: the copy may or may not be stored; the event stays here and is sent again (a
                    // lost connection ends this consumer, and the redelivery tries anew)
                    LOG.warnf("function %s partition %s event %s: no confirm for its dead-letter copy; trying again",
                            fn.name(), queue, id);
                    if (awaitStop(FULL_DLQ_PAUSE) || !current()) {
                        return;
                    }
                    continue;
                }
                if (!blocked) {
                    blocked = true;
                    metrics.deadLetterBlocked(fn.name(), 1);
                    LOG.errorf("function %s partition %s event %s: the dead-letter queue refused it (full at %d?); "
                            + "the event stays in its partition, which waits until the dead-letter queue has room "
                            + "(replay or purge it)", fn.name(), queue, id, fn.limits().deadLetterMax());
                }
                if (awaitStop(FULL_DLQ_PAUSE) || !current()) {
                    return;
                }
            }
        } finally {
            if (blocked) {
                metrics.deadLetterBlocked(fn.name(), -1);
            }
        }
        if (key != null) {
            attemptLog.forget(key);
        }
        metrics.processed(fn.name(), "dead-lettered");
    }

    /** Metrics of a processed event; its attributes are the sender's, so nothing they hold may fail the event. */
    private void measure(AMQP.BasicProperties properties, ObjectNode event) {
        metrics.processed(fn.name(), "success");
        long now = System.currentTimeMillis();
        long acceptedAt = EventCodec.acceptedAt(properties);
        if (acceptedAt > 0 && acceptedAt <= now) {
            metrics.endToEnd(fn.name(), acceptedAt, now);
        }
        eventTime(event).filter(t -> t <= now).ifPresent(t -> metrics.eventDelay(fn.name(), t, now));
    }

    /** The event's own {@code time} attribute, when it has a valid one. */
    private static java.util.Optional<Long> eventTime(ObjectNode event) {
        try {
            return event.hasNonNull("time")
                    ? java.util.Optional.of(java.time.OffsetDateTime.parse(event.get("time").asText()).toInstant()
                            .toEpochMilli())
                    : java.util.Optional.empty();
        } catch (java.time.DateTimeException | ArithmeticException e) {
            return java.util.Optional.empty(); // unparsable, or beyond what epoch milliseconds can hold
        }
    }

    /** The event with this tag is settled: acked with the next batch (every event before it is settled too). */
    private void ack(long tag) throws IOException {
        boolean now;
        synchronized (acks) {
            window.settled(tag);
            inHandSettled = true;
            now = window.due();
        }
        if (now) {
            flush(false);
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

    private static int intHeader(AMQP.BasicProperties properties, String name) {
        Map<String, Object> headers = properties.getHeaders();
        Object v = headers == null ? null : headers.get(name);
        if (v instanceof Number n) {
            return (int) Math.min(Integer.MAX_VALUE, Math.max(0, n.longValue()));
        }
        if (v != null) {
            try {
                return Math.max(0, Integer.parseInt(v.toString()));
            } catch (NumberFormatException e) {
                return 0;
            }
        }
        return 0;
    }

    private static Instant instantHeader(AMQP.BasicProperties properties, String name) {
        Map<String, Object> headers = properties.getHeaders();
        Object v = headers == null ? null : headers.get(name);
        try {
            return v == null ? null : Instant.parse(v.toString());
        } catch (DateTimeParseException e) {
            return null;
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

    /**
     * Stops taking events, waits (bounded) for the handler call in progress, if any, to finish, and acks what
     * is settled; the rest of the window goes back to the head of the queue when the channel closes.
     */
    void stop(Duration wait) {
        stopping.countDown();
        try {
            if (handling.tryLock(wait.toMillis(), TimeUnit.MILLISECONDS)) {
                try {
                    flushQuietly(true);
                } finally {
                    handling.unlock();
                }
            } else {
                LOG.warnf("function %s partition %s: handler still running after %s; its event will be redelivered",
                        fn.name(), queue, wait);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (acks) {
            released = true; // what it held goes back to the queue: no longer this process's lag
            progress.released(queue);
        }
    }
}
