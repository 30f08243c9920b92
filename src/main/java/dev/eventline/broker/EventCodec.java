package dev.eventline.broker;

import java.io.IOException;
import java.util.HashMap;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.rabbitmq.client.AMQP;

/**
 * How an accepted event sits on a queue: the CloudEvent in structured mode (JSON, content type
 * {@code application/cloudevents+json}) as the body, so any consumer (ours, a Knative RabbitMQ source, a
 * person with the management UI) can read it without our headers. AMQP properties repeat the id
 * ({@code message-id}) and type, and a header records when the gate accepted it.
 */
public final class EventCodec {

    public static final String CONTENT_TYPE = "application/cloudevents+json";
    /** Header: epoch milliseconds at which the gate published the event (start of end-to-end latency). */
    public static final String ACCEPTED_AT = "eventline-accepted-ms";
    /** Header: the partition key, as routed. */
    public static final String PARTITION_KEY = "eventline-partition-key";

    private final ObjectMapper json;

    public EventCodec(ObjectMapper json) {
        this.json = json;
    }

    public byte[] encode(ObjectNode event) {
        try {
            return json.writeValueAsBytes(event);
        } catch (IOException e) {
            throw new IllegalStateException("a JSON tree always serialises", e);
        }
    }

    public AMQP.BasicProperties properties(String id, String type, String partitionKey, long acceptedAtMillis) {
        Map<String, Object> headers = new HashMap<>();
        headers.put(ACCEPTED_AT, acceptedAtMillis);
        headers.put(PARTITION_KEY, partitionKey);
        return new AMQP.BasicProperties.Builder()
                .contentType(CONTENT_TYPE)
                .deliveryMode(2)
                .messageId(id)
                .type(type)
                .timestamp(new java.util.Date(acceptedAtMillis))
                .headers(headers)
                .build();
    }

    /**
     * @return the structured CloudEvent
     * @throws IllegalArgumentException when the body is not a JSON object
     */
    public ObjectNode decode(byte[] body) {
        JsonNode node;
        try {
            node = json.readTree(body);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException("body is not JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new IllegalArgumentException("body cannot be read: " + e.getMessage(), e);
        }
        if (!(node instanceof ObjectNode object)) {
            throw new IllegalArgumentException("body is not a JSON object (a structured-mode CloudEvent)");
        }
        return object;
    }

    /** @return when the gate accepted the message, or -1 when the header is absent (published around the gate) */
    public static long acceptedAt(AMQP.BasicProperties properties) {
        return Headers.millis(properties, ACCEPTED_AT);
    }
}
