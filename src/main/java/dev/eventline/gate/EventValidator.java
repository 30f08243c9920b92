package dev.eventline.gate;

import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.eventline.broker.EventCodec;
import dev.eventline.cloudevents.AttributeBounds;
import dev.eventline.cloudevents.PartitionKey;
import dev.eventline.config.FunctionCatalog;
import dev.eventline.config.FunctionDescription;
import dev.eventline.http.HttpError;

/**
 * Checks one CloudEvent 1.0 against the spec and the function catalog, and finds its partition key:
 * the {@code partitionkey} extension (CloudEvents Partitioning), else {@code subject}.
 */
final class EventValidator {

    /** CloudEvents attribute names: lower-case letters and digits, at most 20 characters. */
    private static final Pattern ATTRIBUTE = Pattern.compile("[a-z0-9]{1,20}");
    private static final Pattern RFC_3339 = Pattern.compile(
            "\\d{4}-\\d{2}-\\d{2}[Tt]\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?([Zz]|[+-]\\d{2}:\\d{2})");

    private final FunctionCatalog catalog;
    private final EventCodec codec;
    private final int maxEventBytes;

    EventValidator(FunctionCatalog catalog, EventCodec codec, int maxEventBytes) {
        this.catalog = catalog;
        this.codec = codec;
        this.maxEventBytes = maxEventBytes;
    }

    /** @param index position in a batch, or null for a single event */
    ValidEvent validate(ObjectNode event, Integer index) {
        String specversion = required(event, "specversion", index);
        if (!"1.0".equals(specversion)) {
            throw HttpError.invalid("specversion " + AttributeBounds.quoted(specversion)
                    + " is not supported; send 1.0", index, "specversion");
        }
        String id = bounded(event, "id", index);
        bounded(event, "source", index);
        String type = bounded(event, "type", index);
        checkAttributes(event, index);
        FunctionDescription owner = catalog.ownerOf(type).orElseThrow(() -> HttpError.invalid(
                "unknown event type '" + type + "'; known types: " + catalog.eventTypes(), index, "type"));
        String key = partitionKey(event, index);
        return new ValidEvent(owner, id, type, key, encoded(event, id, index));
    }

    private static void checkAttributes(ObjectNode event, Integer index) {
        for (Iterator<Map.Entry<String, JsonNode>> it = event.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> attribute = it.next();
            String name = attribute.getKey();
            if (name.equals("data") || name.equals("data_base64")) {
                continue;
            }
            if (!ATTRIBUTE.matcher(name).matches()) {
                throw HttpError.invalid("attribute name " + AttributeBounds.quoted(name)
                        + " is not allowed: CloudEvents attribute names are 1-20 lower-case letters or digits", index,
                        AttributeBounds.cut(name));
            }
            JsonNode value = attribute.getValue();
            if (!(value.isTextual() || value.isNumber() || value.isBoolean())) {
                throw HttpError.invalid("attribute '" + name + "' must be a string, number or boolean", index, name);
            }
        }
        if (event.has("data") && event.has("data_base64")) {
            throw HttpError.invalid("an event carries data or data_base64, not both", index, "data_base64");
        }
        if (event.has("time")) {
            checkTime(event.get("time").asText(), index);
        }
    }

    private byte[] encoded(ObjectNode event, String id, Integer index) {
        byte[] body = codec.encode(event);
        if (body.length > maxEventBytes) {
            throw new HttpError(413, "event-too-large", "event '" + id + "' is " + body.length
                    + " bytes encoded; the limit is " + maxEventBytes + " (eventline.gate.max-event-bytes)", index, null);
        }
        return body;
    }

    /** RFC 3339: a four-digit year (Java also reads {@code +99999-...}, which other readers do not). */
    private static void checkTime(String time, Integer index) {
        try {
            if (RFC_3339.matcher(time).matches()) {
                OffsetDateTime.parse(time);
                return;
            }
        } catch (DateTimeParseException e) {
            // reported below
        }
        throw HttpError.invalid("time " + AttributeBounds.quoted(time) + " is not an RFC 3339 timestamp", index,
                "time");
    }

    /** The routing key: bounded as an AMQP short string, and named by the attribute it came from. */
    private static String partitionKey(ObjectNode event, Integer index) {
        Optional<String> attribute = PartitionKey.attribute(event);
        if (attribute.isPresent()) {
            String key = event.get(attribute.get()).asText();
            check(attribute.get(), key, index);
            return key;
        }
        throw HttpError.invalid("no partition key: set the 'partitionkey' extension attribute or 'subject' "
                + "(events with the same key are processed in order)", index, "partitionkey");
    }

    private static String bounded(ObjectNode event, String name, Integer index) {
        String value = required(event, name, index);
        check(name, value, index);
        return value;
    }

    /** 400 naming the attribute when the value breaks its bound ({@link AttributeBounds}). */
    private static void check(String attribute, String value, Integer index) {
        String problem = AttributeBounds.problem(attribute, value);
        if (problem != null) {
            throw HttpError.invalid(problem, index, attribute);
        }
    }

    private static String required(ObjectNode event, String name, Integer index) {
        JsonNode v = event.get(name);
        if (v == null || v.isNull()) {
            throw HttpError.invalid("required attribute '" + name + "' is missing", index, name);
        }
        if (!v.isTextual() || v.asText().isEmpty()) {
            throw HttpError.invalid("attribute '" + name + "' must be a non-empty string", index, name);
        }
        return v.asText();
    }

    /** An event that passed validation, encoded for the queue. */
    record ValidEvent(FunctionDescription function, String id, String type, String partitionKey, byte[] body) {
    }
}
