package dev.eventline.trigger;

import java.io.IOException;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.Optional;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.rabbitmq.client.AMQP;

import dev.eventline.broker.EventCodec;
import dev.eventline.broker.FunctionProgress;
import dev.eventline.config.FunctionDescription;
import dev.eventline.fault.DeadLetters;
import dev.eventline.fault.Dedup;
import dev.eventline.fault.RetryPolicy;
import dev.eventline.metrics.PipelineMetrics;

/**
 * What happens to each event of one partition consumer: the delivery is read ({@link Delivery}), one
 * {@link Outcome} is decided (per attempt, while it retries in place) and carried out. Failures
 * (docs/failure-model.md "Failure model"): an event that can never succeed, or cannot be read, is
 * dead-lettered at once; a failed or timed-out call is retried with backoff, in place (strict mode: the
 * partition waits) or from a delay queue (relaxed mode: the partition moves on), until the function's attempt
 * budget is spent, and then dead-lettered. Attempts made before a crash count: the event carries them in a
 * header (relaxed mode), the quorum queue counts redeliveries ({@code x-delivery-count}), and this process
 * remembers its own ({@link AttemptLog}).
 */
final class PartitionEvents {

    /** What the events of a partition need of their consumer. */
    interface Partition {
        /**
         * @return whether a delivery can still be settled here: after its channel went down the broker has
         *         already given the event back, and attempts here would run beside that redelivery
         */
        boolean current();

        boolean isStopping();

        /** @return true when the consumer stops within the delay (or the wait was interrupted) */
        boolean awaitStop(Duration delay);

        /** The consumer is being shut down: it settles nothing more. */
        void stopNow();

        /** The event with this delivery tag is settled: it may be acked. */
        void settled(long tag) throws IOException;

        /**
         * With key concurrency: the event's call waits out a retry's backoff ({@code true}) or is about to try
         * again ({@code false}); meanwhile it does not take one of the partition's calls from the other keys.
         */
        default void resting(Delivery d, boolean resting) {
        }

        /** Parked mode: the event failed and is to be tried again here (its key's later events are parked). */
        default void failing(Delivery d, String reason) {
        }

        /**
         * The event is done here (applied, skipped, dead-lettered) and about to be acked.
         *
         * @return false when it must stay unacked (parked mode: its key's list could not be stored)
         */
        default boolean done(Delivery d, boolean deadLettered, String reason) {
            return true;
        }
    }

    private static final Logger LOG = Logger.getLogger(PartitionEvents.class);
    /** Between tries to dead-letter into a full dead-letter queue. */
    private static final Duration FULL_DLQ_PAUSE = Duration.ofSeconds(2);

    private final FunctionDescription fn;
    private final String queue;
    private final Partition partition;
    private final FunctionInvokers invokers;
    private final DeadLetters deadLetters;
    private final HandlerCalls calls;
    private final Dedup dedup;
    private final AttemptLog attemptLog;
    private final RetryPolicy retry;
    private final PipelineMetrics metrics;
    private final FunctionProgress progress;
    private final ObjectMapper json;
    private final EventCodec codec;

    PartitionEvents(FunctionDescription fn, String queue, Partition partition, FunctionHandling shared,
            DeadLetters deadLetters) {
        this.fn = fn;
        this.queue = queue;
        this.partition = partition;
        this.invokers = shared.invokers();
        this.deadLetters = deadLetters;
        this.calls = shared.calls();
        this.dedup = shared.dedup();
        this.attemptLog = shared.attemptLog();
        this.retry = RetryPolicy.of(fn);
        this.metrics = shared.metrics();
        this.progress = shared.progress();
        this.json = shared.json();
        this.codec = shared.codec();
    }

    /**
     * Whatever went wrong outside the handler call (a message no rule foresaw): dead-lettered with the error
     * as its reason, so it neither kills the channel nor comes back forever.
     */
    void unexpected(Delivery unread, RuntimeException e) throws IOException {
        LOG.debugf(e, "function %s partition %s: unexpected failure", fn.name(), queue);
        if (partition.current()) {
            carryOut(unread, rejected("rejected: cannot be handled: " + e, e, 0));
        }
    }

    /** Reads the delivery, then calls its handler until one outcome settles it or leaves it to the broker. */
    void handle(Delivery unread) throws IOException {
        Delivery d;
        try {
            d = Delivery.read(unread, codec, fn.eventTypes(), fn.name(), invokers, json);
        } catch (IllegalArgumentException e) {
            carryOut(unread, rejected("rejected: " + e.getMessage(), e, unread.carried()));
            return;
        }
        if (dedup.seen(d.key())) {
            carryOut(d, new Outcome.Duplicate());
            return;
        }
        if (attemptLog.isStaleOriginal(d.key(), d.redelivered())) {
            carryOut(d, new Outcome.MovedOn());
            return;
        }
        // attempts before this delivery: carried in a header (relaxed mode), counted by this process (a lost
        // connection), or one per earlier delivery (x-delivery-count, after a crash). Every delivery still gets
        // at least one call: a redelivery may not have been tried (handed back on a graceful stop), and
        // deliveries that keep killing their consumer are stopped by the queue's delivery limit
        int prior = Math.min(retry.maxAttempts() - 1,
                Math.max(d.carried() + d.deliveries(), attemptLog.get(d.key())));
        Instant first = d.firstFailure();
        for (int attempt = prior + 1;; attempt++) {
            // an abandoned (timed-out) attempt may have finished successfully meanwhile: done, not called again
            Outcome outcome = attempt > prior + 1 && dedup.seen(d.key()) ? new Outcome.Duplicate()
                    : attempt(d, attempt, first);
            if (carryOut(d, outcome)) {
                return;
            }
            first = ((Outcome.Retry) outcome).failure().first();
        }
    }

    private static Outcome rejected(String reason, Throwable error, int attempts) {
        Instant now = Instant.now();
        return new Outcome.DeadLettered(new DeadLetters.Failure(reason, error, attempts, now, now));
    }

    /** One call of the handler, and what it means for the event. */
    private Outcome attempt(Delivery d, int attempt, Instant first) {
        long start = System.nanoTime();
        try {
            if (!calls.run(d.key(), d.id(), fn.timeout(), partition::isStopping, () -> d.call().run(fn.timeout()))) {
                return new Outcome.Left(); // stopping before the call could start: back to the queue in place
            }
            metrics.handlerTime(fn.name(), Duration.ofNanos(System.nanoTime() - start));
            return new Outcome.Applied();
        } catch (Throwable t) {
            if (!(t instanceof HandlerCalls.StillRunning)) {
                metrics.handlerTime(fn.name(), Duration.ofNanos(System.nanoTime() - start));
            }
            if (t instanceof InterruptedException) {
                partition.stopNow(); // this consumer is being shut down: not acked, nor anything after it
                return new Outcome.Left();
            }
            Instant now = Instant.now();
            Instant since = first == null ? now : first;
            if (retry.nonRetryable(t)) {
                return new Outcome.DeadLettered(new DeadLetters.Failure("non-retryable: " + t, t, attempt, since, now));
            }
            LOG.warnf("function %s partition %s event %s: attempt %d of %d failed: %s", fn.name(), queue, d.id(),
                    attempt, retry.maxAttempts(), t.toString());
            LOG.debug("handler failure", t);
            attemptLog.failed(d.key(), attempt);
            if (!partition.current()) {
                return new Outcome.Left(); // redelivered meanwhile: the redelivery counts on from the attempt log
            }
            if (retry.exhausted(attempt)) {
                return new Outcome.DeadLettered(new DeadLetters.Failure("retries exhausted", t, attempt, since, now));
            }
            DeadLetters.Failure failure = new DeadLetters.Failure(null, t, attempt, since, now);
            Duration delay = retry.delayAfter(attempt);
            if (fn.parked()) {
                partition.failing(d, "attempt " + attempt + " of " + retry.maxAttempts() + " failed: " + t);
            }
            return fn.retry().mode() == FunctionDescription.RetryMode.RELAXED ? new Outcome.Deferred(failure, delay)
                    : new Outcome.RetryInPlace(failure, delay);
        }
    }

    /** @return false when the event is to be called again (a retry in place), true when this delivery is done */
    private boolean carryOut(Delivery d, Outcome outcome) throws IOException {
        if (outcome instanceof Outcome.Applied) {
            dedup.record(d.key());
            attemptLog.forget(d.key());
            if (partition.current() && partition.done(d, false, null)) {
                settled(d); // should the ack not arrive, the redelivered copy is skipped as a duplicate
                measure(d.properties(), d.event());
            }
        } else if (outcome instanceof Outcome.Duplicate) {
            LOG.debugf("function %s partition %s event %s: already processed, skipped", fn.name(), queue, d.id());
            if (!partition.done(d, false, null)) {
                return true;
            }
            settled(d);
            metrics.duplicate(fn.name());
            attemptLog.forget(d.key());
        } else if (outcome instanceof Outcome.MovedOn) {
            LOG.debugf("function %s partition %s event %s: already moved on before its channel closed; acked",
                    fn.name(), queue, d.id());
            // parked mode: it was dead-lettered, and its key may wait for it
            if (!partition.done(d, true, "dead-lettered before its partition changed hands")) {
                return true;
            }
            settled(d);
        } else if (outcome instanceof Outcome.Deferred deferred) {
            metrics.retried(fn.name());
            return delayed(d, deferred) || inPlace(d, deferred.delay());
        } else if (outcome instanceof Outcome.RetryInPlace retryInPlace) {
            metrics.retried(fn.name());
            return inPlace(d, retryInPlace.delay());
        } else if (outcome instanceof Outcome.DeadLettered deadLettered) {
            deadLetter(d, deadLettered.failure());
        }
        // Outcome.Left: not acked, the broker gives it back when the channel closes
        return true;
    }

    /** Waits out a retry's delay; @return true when the event is not to be called again here (stopping, or redelivered) */
    private boolean inPlace(Delivery d, Duration delay) {
        partition.resting(d, true);
        try {
            return partition.awaitStop(delay) || !partition.current();
        } finally {
            partition.resting(d, false);
        }
    }

    /** Relaxed mode: parks the event in its delay queue and acks it; @return false to retry in place instead. */
    private boolean delayed(Delivery d, Outcome.Deferred deferred) throws IOException {
        DeadLetters.Failure failure = deferred.failure();
        int level = Math.min(failure.attempts(), fn.retry().delayLevels());
        DeadLetters.Outcome outcome = deadLetters.delay(queue, d.properties(), d.body(), failure, level,
                deferred.delay().toMillis());
        if (outcome != DeadLetters.Outcome.CONFIRMED) {
            LOG.warnf("function %s partition %s event %s: the delay queue did not take it (%s); retrying in place",
                    fn.name(), queue, d.id(), outcome);
            return false;
        }
        if (partition.current()) {
            attemptLog.forget(d.key());
            settled(d);
        } else {
            attemptLog.copiedOut(d.key(), failure.attempts());
        }
        return true;
    }

    /**
     * Moves the event to the dead-letter queue, then acks it. A full dead-letter queue refuses it: the event
     * then stays here, unacked, and the partition waits (pressure an operator sees in the logs, the
     * {@code eventline_dead_letter_blocked_partitions} gauge and the partition's depth) until there is room.
     * Without an answer from the broker, the copy is sent again (the dead-letter queue may then hold it twice).
     */
    private void deadLetter(Delivery d, DeadLetters.Failure failure) throws IOException {
        LOG.warnf("function %s partition %s event %s: dead-lettering after %d attempts (%s)", fn.name(), queue, d.id(),
                failure.attempts(), failure.reason());
        boolean blocked = false;
        try {
            for (;;) {
                DeadLetters.Outcome outcome = deadLetters.send(queue, d.properties(), d.body(), failure);
                if (outcome == DeadLetters.Outcome.CONFIRMED) {
                    if (!partition.current()) {
                        if (d.key() != null) {
                            attemptLog.copiedOut(d.key(), failure.attempts());
                        }
                        metrics.processed(fn.name(), "dead-lettered");
                        return;
                    }
                    if (!partition.done(d, true, failure.reason()
                            + (failure.error() == null ? "" : " (" + failure.error() + ")"))) {
                        return; // stays unacked: its copy in the dead-letter queue may come twice
                    }
                    settled(d);
                    break;
                }
                if (outcome == DeadLetters.Outcome.FAILED) {
                    // no answer: the copy may or may not be stored; the event stays here and is sent again (a
                    // lost connection ends this consumer, and the redelivery tries anew)
                    LOG.warnf("function %s partition %s event %s: no confirm for its dead-letter copy; trying again",
                            fn.name(), queue, d.id());
                } else if (!blocked) {
                    blocked = true;
                    metrics.deadLetterBlocked(fn.name(), 1);
                    progress.blocked(queue, true);
                    LOG.errorf("function %s partition %s event %s: the dead-letter queue refused it (full at %d?); "
                            + "the event stays in its partition, which waits until the dead-letter queue has room "
                            + "(replay or purge it)", fn.name(), queue, d.id(), fn.limits().deadLetterMax());
                }
                if (partition.awaitStop(FULL_DLQ_PAUSE) || !partition.current()) {
                    return;
                }
            }
        } finally {
            if (blocked) {
                metrics.deadLetterBlocked(fn.name(), -1);
                progress.blocked(queue, false);
            }
        }
        if (d.key() != null) {
            attemptLog.forget(d.key());
        }
        metrics.processed(fn.name(), "dead-lettered");
    }

    private void settled(Delivery d) throws IOException {
        partition.settled(d.tag());
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
    private static Optional<Long> eventTime(ObjectNode event) {
        try {
            return event.hasNonNull("time")
                    ? Optional.of(OffsetDateTime.parse(event.get("time").asText()).toInstant().toEpochMilli())
                    : Optional.empty();
        } catch (DateTimeException | ArithmeticException e) {
            return Optional.empty(); // unparsable, or beyond what epoch milliseconds can hold
        }
    }
}
