package dev.eventline.trigger;

import java.nio.charset.StandardCharsets;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The attributes of an event the HTTP trigger takes that become AMQP fields or keys: {@code id} (message-id, the
 * dedup key), {@code type} (type), the partition key {@code partitionkey} or {@code subject} (routing key, header)
 * and {@code source} (the dedup key). AMQP carries the first three as short strings of at most
 * {@value #MAX_BYTES} bytes, and a publish that breaks that limit fails in the client; so all four are bounded
 * alike, and each must be a string.
 */
final class EventAttributes {

    static final int MAX_BYTES = 255;
    private static final List<String> BOUNDED = List.of("id", "source", "type", "partitionkey", "subject");

    private EventAttributes() {
    }

    /** @return what is wrong with the bounded attributes, or null when nothing is */
    static String problem(ObjectNode event) {
        for (String name : BOUNDED) {
            JsonNode value = event.get(name);
            if (value == null || value.isNull()) {
                continue;
            }
            if (!value.isTextual()) {
                return "attribute '" + name + "' must be a string";
            }
            int bytes = value.asText().getBytes(StandardCharsets.UTF_8).length;
            if (bytes > MAX_BYTES) {
                return "attribute '" + name + "' is " + bytes + " bytes (UTF-8); at most " + MAX_BYTES
                        + " (an AMQP short string: message-id, type, routing key)";
            }
        }
        return null;
    }
}
