package dev.eventline.admin;

import io.quarkus.runtime.annotations.RegisterForReflection;

import java.util.List;
import java.util.Map;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.LongString;

import dev.eventline.broker.EventCodec;
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
        Map<String, Object> h = p.getHeaders() == null ? Map.of() : p.getHeaders();
        String reason = text(h.get(DeadLetters.REASON));
        String queue = text(h.get(DeadLetters.ORIGINAL_QUEUE));
        // x-death lists the most recent dead-lettering first (an event may have expired from a delay queue
        // before the broker dead-lettered it for good)
        if (reason == null && h.get("x-death") instanceof List<?> deaths && !deaths.isEmpty()
                && deaths.get(0) instanceof Map<?, ?> death) {
            reason = "broker: " + text(death.get("reason"));
            queue = queue != null ? queue : text(death.get("queue"));
        }
        if (reason == null && h.get("x-first-death-reason") != null) {
            reason = "broker: " + text(h.get("x-first-death-reason"));
            queue = queue != null ? queue : text(h.get("x-first-death-queue"));
        }
        return new DeadLetterEntry(p.getMessageId(), p.getType(), text(h.get(EventCodec.PARTITION_KEY)),
                reason == null ? "unknown" : reason, number(h.get(DeadLetters.ATTEMPTS)),
                text(h.get(DeadLetters.ERROR_CLASS)), text(h.get(DeadLetters.ERROR_MESSAGE)),
                text(h.get(DeadLetters.FIRST_FAILURE)), text(h.get(DeadLetters.LAST_FAILURE)), queue,
                number(h.get(DeadLetters.REPLAYS)), body.length);
    }

    static String text(Object v) {
        if (v == null) {
            return null;
        }
        return v instanceof LongString || v instanceof byte[] ? new String(
                v instanceof LongString l ? l.getBytes() : (byte[]) v, java.nio.charset.StandardCharsets.UTF_8)
                : v.toString();
    }

    static int number(Object v) {
        if (v instanceof Number n) {
            return n.intValue();
        }
        try {
            return v == null ? 0 : Integer.parseInt(text(v));
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
