package dev.eventline.trigger;

import java.time.Instant;
import java.util.Collection;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.rabbitmq.client.AMQP;

import dev.eventline.broker.EventCodec;
import dev.eventline.broker.Headers;
import dev.eventline.fault.DeadLetterFormat;
import dev.eventline.fault.Dedup;

/**
 * One delivery of a partition queue as the consumer works with it: the broker's tag and properties, the
 * CloudEvent the body holds and the handler call it names, and what earlier attempts left on the message.
 *
 * @param id         the event's id (its {@code message-id} when the body could not be read)
 * @param key        the dedup key (source and id); null when the body could not be read
 * @param event      the event; null when the body could not be read
 * @param call       the handler call for its type; null when the body could not be read
 * @param carried    attempts made before it was parked in a delay queue (relaxed mode), from its header
 * @param deliveries earlier deliveries the quorum queue counted ({@code x-delivery-count}, after a crash)
 * @param firstFailure when its first attempt failed, from its header; null before any failed
 */
record Delivery(long tag, boolean redelivered, AMQP.BasicProperties properties, byte[] body, String id, String key,
        ObjectNode event, FunqyCall call, int carried, int deliveries, Instant firstFailure) {

    /** What the headers say, for a message whose body could not be read (or that failed outside any rule). */
    static Delivery unread(long tag, boolean redelivered, AMQP.BasicProperties properties, byte[] body) {
        return new Delivery(tag, redelivered, properties, body, properties.getMessageId(), null, null, null,
                Headers.count(properties, DeadLetterFormat.ATTEMPTS), Headers.count(properties, "x-delivery-count"),
                Headers.instant(properties, DeadLetterFormat.FIRST_FAILURE));
    }

    /**
     * Reads a delivery of one of the function's partitions. Whatever the message holds, this either returns or
     * throws {@link IllegalArgumentException} with the reason it cannot be handled, which the consumer writes on
     * the dead-lettered copy.
     *
     * @param eventTypes the types the function owns
     */
    static Delivery read(Delivery unread, EventCodec codec, Collection<String> eventTypes, String function,
            FunctionInvokers invokers, ObjectMapper json) {
        ObjectNode event = codec.decode(unread.body());
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
        if (!eventTypes.contains(type)) {
            throw new IllegalArgumentException("event type '" + type + "' is not owned by function " + function);
        }
        FunqyCall call = new FunqyCall(invokers.forType(type).orElseThrow(
                () -> new IllegalArgumentException("no @Funq method for event type '" + type + "'")), event, json);
        String id = event.get("id").asText();
        return new Delivery(unread.tag(), unread.redelivered(), unread.properties(), unread.body(), id,
                Dedup.key(event.get("source").asText(), id), event, call, unread.carried(), unread.deliveries(),
                unread.firstFailure());
    }
}
