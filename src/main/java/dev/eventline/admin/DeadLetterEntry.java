package dev.eventline.admin;

import io.quarkus.runtime.annotations.RegisterForReflection;

import com.rabbitmq.client.AMQP;

import dev.eventline.broker.EventCodec;
import dev.eventline.broker.Headers;
import dev.eventline.fault.DeadLetterFormat;

/**
 * One event in a dead-letter queue, as an operator sees it, its history read by {@link DeadLetterFormat}
 * (from the broker's {@code x-death} for events the broker dead-lettered itself).
 */
@RegisterForReflection // serialized by Jackson (admin listing), also in a native image
public record DeadLetterEntry(String id, String type, String key, String reason, int attempts, String errorClass,
        String errorMessage, String firstFailure, String lastFailure, String originalQueue, int replays, int bytes) {

    static DeadLetterEntry of(AMQP.BasicProperties p, byte[] body) {
        DeadLetterFormat.Read h = DeadLetterFormat.read(p);
        return new DeadLetterEntry(p.getMessageId(), p.getType(), Headers.text(p, EventCodec.PARTITION_KEY),
                h.reason(), h.attempts(), h.errorClass(), h.errorMessage(), h.firstFailure(), h.lastFailure(),
                h.originalQueue(), h.replays(), body.length);
    }
}
