package dev.eventline.trigger;

import java.nio.charset.StandardCharsets;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The attributes of an event the triggers take that become AMQP fields or keys: {@code id} (message-id, the
 * dedup key), {@code type} (type), the partition key {@code partitionkey} or {@code subject} (header) and
 * {@code source} (the dedup key). AMQP carries the first three as short strings of at most {@value #MAX_BYTES}
 * bytes, and a publish that breaks that limit fails in the client; {@code source} is bounded at
 * {@value #SOURCE_BYTES} bytes, as the gate bounds it. Each must be a string. (The gate checks the same bounds in
 * its own words: gate.AttributeBounds.)
 */
final class EventAttributes {

    static final int MAX_BYTES = 255;
    static final int SOURCE_BYTES = 1024;
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
            int max = name.equals("source") ? SOURCE_BYTES : MAX_BYTES;
            if (bytes > max) {
                return "attribute '" + name + "' is " + bytes + " bytes (UTF-8); at most " + max
                        + (max == MAX_BYTES ? " (an AMQP short string: message-id, type, routing key)" : "");
            }
        }
        return null;
    }
}
