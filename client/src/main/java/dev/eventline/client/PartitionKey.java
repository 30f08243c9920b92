package dev.eventline.client;

import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The gate's partition-key rule: the {@code partitionkey} extension attribute (CloudEvents Partitioning) when
 * it is a non-empty scalar, else {@code subject}. Events with the same key are processed in order, so the
 * client keeps their order by this key.
 */
final class PartitionKey {

    private static final String[] ATTRIBUTES = { "partitionkey", "subject" };

    private PartitionKey() {
    }

    /** @return the event's partition key, or empty when it has neither attribute */
    static Optional<String> of(JsonNode event) {
        for (String attribute : ATTRIBUTES) {
            JsonNode value = event.get(attribute);
            if (value != null && value.isValueNode() && !value.isNull() && !value.asText().isEmpty()) {
                return Optional.of(value.asText());
            }
        }
        return Optional.empty();
    }
}
