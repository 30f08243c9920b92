package dev.eventline.cloudevents;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Limits of the attributes that leave an event's body, the one copy the gate, the HTTP trigger and the producer
 * client use: {@code id}, {@code type} and the partition key (the attribute {@link PartitionKey} takes it from,
 * {@code partitionkey} or {@code subject}) become AMQP short strings (message-id, type, routing key), where the
 * broker counts at most {@value #SHORT_STRING_BYTES} bytes of UTF-8; {@code source} is part of the dedup key
 * consumers keep per event, at most {@value #SOURCE_BYTES} bytes. A {@code subject} that is not the key stays
 * in the body and is not bounded. Text that is not valid Unicode (an unpaired surrogate, which UTF-8 cannot
 * carry) is refused too: encoding would change it. Checked before anything is published, so that no event
 * reaches a publisher that cannot encode it.
 */
public final class AttributeBounds {

    /** AMQP short strings (message-id, type, routing key): at most 255 bytes of UTF-8. */
    public static final int SHORT_STRING_BYTES = 255;
    /** {@code source}: part of the dedup key consumers keep per event ({@code source} + {@code id}). */
    public static final int SOURCE_BYTES = 1024;
    /** The attributes bounded whenever present, in the order they are checked; then the partition key's. */
    public static final String[] ALWAYS_BOUNDED = { "id", "source", "type" };
    /** Longest piece of a caller's value quoted back in an error message. */
    private static final int QUOTED = 64;

    private AttributeBounds() {
    }

    /** @return the bound of this attribute in UTF-8 bytes, or -1 when it has none */
    public static int maxBytes(String attribute) {
        switch (attribute) {
            case "source":
                return SOURCE_BYTES;
            case "id", "type", "partitionkey", "subject":
                return SHORT_STRING_BYTES;
            default:
                return -1;
        }
    }

    /** @return what the attribute becomes outside the body, for messages */
    public static String becomes(String attribute) {
        switch (attribute) {
            case "id":
                return "the AMQP message-id";
            case "type":
                return "the AMQP type";
            case "source":
                return "part of the consumers' dedup key";
            default:
                return "the AMQP routing key (the partition key)";
        }
    }

    /** @return what is wrong with this value of a bounded attribute, or null when nothing is */
    public static String problem(String attribute, String value) {
        int bytes = utf8Length(value);
        if (bytes < 0) {
            return "attribute '" + attribute + "' is not valid Unicode (it holds an unpaired surrogate, e.g. \\ud800)";
        }
        int max = maxBytes(attribute);
        if (max >= 0 && bytes > max) {
            return "attribute '" + attribute + "' is " + bytes + " bytes in UTF-8; at most " + max
                    + " are allowed, as it becomes " + becomes(attribute);
        }
        return null;
    }

    /**
     * @return what is wrong with the event's bounded attributes, or null when nothing is: {@code id},
     *         {@code source} and {@code type} when they are strings (the doors decide themselves what other kinds
     *         of value they take), and the partition key as the text it is routed by
     */
    public static String problem(JsonNode event) {
        for (String attribute : ALWAYS_BOUNDED) {
            JsonNode value = event.get(attribute);
            if (value != null && value.isTextual()) {
                String problem = problem(attribute, value.asText());
                if (problem != null) {
                    return problem;
                }
            }
        }
        return PartitionKey.attribute(event).map(key -> problem(key, event.get(key).asText())).orElse(null);
    }

    /** @return the length of the text in UTF-8, or -1 when it holds an unpaired surrogate */
    public static int utf8Length(String s) {
        int bytes = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                bytes += 1;
            } else if (c < 0x800) {
                bytes += 2;
            } else if (!Character.isSurrogate(c)) {
                bytes += 3;
            } else if (Character.isHighSurrogate(c) && i + 1 < s.length()
                    && Character.isLowSurrogate(s.charAt(i + 1))) {
                bytes += 4;
                i++;
            } else {
                return -1;
            }
        }
        return bytes;
    }

    /** A caller's value for an error message: quoted, and cut when long. */
    public static String quoted(String value) {
        return "'" + cut(value) + "'";
    }

    /** A caller's value for an error message, cut when long. */
    public static String cut(String value) {
        if (value.length() <= QUOTED) {
            return value;
        }
        int end = Character.isHighSurrogate(value.charAt(QUOTED - 1)) ? QUOTED - 1 : QUOTED;
        return value.substring(0, end) + "…";
    }
}
