package dev.eventline.admin;

import io.quarkus.runtime.annotations.RegisterForReflection;

import java.util.List;
import java.util.Map;

import com.rabbitmq.client.AMQP;

import dev.eventline.broker.EventCodec;
import dev.eventline.broker.Headers;
import dev.eventline.fault.DeadLetters;

/**
 * One event in a dead-letter queue, as an operator sees it. Events dead-lettered by the trigger carry
 * {@code eventline-*} headers; events the broker dead-lettered itself (delivery limit, or a reject when the
 * trigger could not reach the dead-letter exchange) carry only {@code x-death}, from which the reason and
 * queue are taken.
 */
@RegisterForReflection // serialized by Jackson (admin listing), also in a native image
public record DeadLetterEntry(String id, String type, String key, String reason, int attempts, String errorClass,
        String errorMessage, String firstFailure, String lastFailure, String originalQueue, int replays, int bytes) {

    static DeadLetterEntry of(AMQP.BasicProperties p, byte[] body) {
        String reason = Headers.text(p, DeadLetters.REASON);
        String queue = Headers.text(p, DeadLetters.ORIGINAL_QUEUE);
        // x-death lists the most recent dead-lettering first (an event may have expired from a delay queue
        // before the broker dead-lettered it for good)
        if (reason == null && Headers.get(p, "x-death") instanceof List<?> deaths && !deaths.isEmpty()
                && deaths.get(0) instanceof Map<?, ?> death) {
            reason = "broker: " + Headers.textOf(death.get("reason"));
            queue = queue != null ? queue : Headers.textOf(death.get("queue"));
        }
        if (reason == null && Headers.get(p, "x-first-death-reason") != null) {
            reason = "broker: " + Headers.text(p, "x-first-death-reason");
            queue = queue != null ? queue : Headers.text(p, "x-first-death-queue");
        }
        return new DeadLetterEntry(p.getMessageId(), p.getType(), Headers.text(p, EventCodec.PARTITION_KEY),
                reason == null ? "unknown" : reason, Headers.count(p, DeadLetters.ATTEMPTS),
                Headers.text(p, DeadLetters.ERROR_CLASS), Headers.text(p, DeadLetters.ERROR_MESSAGE),
                Headers.text(p, DeadLetters.FIRST_FAILURE), Headers.text(p, DeadLetters.LAST_FAILURE), queue,
                Headers.count(p, DeadLetters.REPLAYS), body.length);
    }
}
