package dev.eventline.cloudevents;

import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The partition-key rule, the one copy the gate, the HTTP trigger and the producer client all use: the
 * {@code partitionkey} extension attribute (CloudEvents Partitioning) when it is a non-empty scalar, else
 * {@code subject} under the same condition. Events with the same key are processed in order; the gate routes
 * by it, the trigger reports it, the client keeps order by it. It lives with the client's sources because the
 * client is a separate artifact with nothing but Jackson, which the application compiles in as well.
 */
public final class PartitionKey {

    /** The attributes that may carry the key, in the order they are looked at. */
    public static final String[] ATTRIBUTES = { "partitionkey", "subject" };

    private PartitionKey() {
    }

    /** @return the event's partition key, or empty when it has neither attribute */
    public static Optional<String> of(JsonNode event) {
        return attribute(event).map(name -> event.get(name).asText());
    }

    /** @return the attribute the key comes from, or empty when the event has none */
    public static Optional<String> attribute(JsonNode event) {
        for (String attribute : ATTRIBUTES) {
            JsonNode value = event.get(attribute);
            if (value != null && value.isValueNode() && !value.isNull() && !value.asText().isEmpty()) {
                return Optional.of(attribute);
            }
        }
        return Optional.empty();
    }
}
