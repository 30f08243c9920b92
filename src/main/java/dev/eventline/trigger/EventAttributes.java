package dev.eventline.trigger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.eventline.cloudevents.AttributeBounds;

/**
 * The triggers' rule for the attributes that become AMQP fields or keys: {@code id}, {@code source} and
 * {@code type} must be strings, as the gate requires, and every bounded attribute, the partition key included,
 * must be within the bound the gate applies ({@link AttributeBounds}), since a publish that breaks an AMQP
 * short string's limit fails in the client. The key may be any scalar the gate takes (it is routed by its text).
 */
final class EventAttributes {

    private EventAttributes() {
    }

    /** @return what is wrong with the bounded attributes, or null when nothing is */
    static String problem(ObjectNode event) {
        for (String name : AttributeBounds.ALWAYS_BOUNDED) {
            JsonNode value = event.get(name);
            if (value != null && !value.isNull() && !value.isTextual()) {
                return "attribute '" + name + "' must be a string";
            }
        }
        return AttributeBounds.problem(event);
    }
}
