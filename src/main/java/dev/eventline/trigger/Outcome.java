package dev.eventline.trigger;

import java.time.Duration;

import dev.eventline.fault.DeadLetters;

/**
 * What becomes of one delivery of a partition queue. The consumer decides one outcome per event (and per
 * attempt, while it retries in place) and then carries it out ({@link PartitionConsumer}); every outcome but
 * {@link Left} settles the event: it is acked once what the outcome needs is confirmed.
 */
sealed interface Outcome {

    /** The handler returned: the event is recorded as done (dedup), acked and measured. */
    record Applied() implements Outcome {
    }

    /** Done before, as this process remembers ({@code Dedup}): acked without a call. */
    record Duplicate() implements Outcome {
    }

    /**
     * An original whose handling had already moved on before its channel closed (copied to a delay or
     * dead-letter queue, see {@link AttemptLog}): acked without a call.
     */
    record MovedOn() implements Outcome {
    }

    /** A failed attempt that may still succeed: the event is tried again after {@code delay}. */
    sealed interface Retry extends Outcome {
        DeadLetters.Failure failure();

        Duration delay();
    }

    /** Strict mode (or a delay queue that refused it): the partition waits, then calls again. */
    record RetryInPlace(DeadLetters.Failure failure, Duration delay) implements Retry {
    }

    /** Relaxed mode: parked in the delay queue of its attempt, acked; the partition moves on. */
    record Deferred(DeadLetters.Failure failure, Duration delay) implements Retry {
    }

    /** Can never succeed, cannot be read, or out of attempts: copied to the dead-letter queue, acked. */
    record DeadLettered(DeadLetters.Failure failure) implements Outcome {
    }

    /**
     * Not settled here (stopping, or its channel ended and the broker gave the event back): left unacked, so
     * the event returns to the head of its queue with everything after it.
     */
    record Left() implements Outcome {
    }
}
