package dev.eventline.gate;

import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Turns an HTTP request into structured CloudEvents (JSON objects), following the CloudEvents HTTP binding:
 * <ul>
 * <li>structured mode: {@code Content-Type: application/cloudevents+json}, the body is one event;</li>
 * <li>batch mode: {@code application/cloudevents-batch+json}, the body is a JSON array of events;</li>
 * <li>binary mode: attributes in {@code ce-*} headers, the body is the event's data, JSON or text.</li>
 * </ul>
 * Anything else is {@code 415}.
 */
public final class EventReader {

    public static final String STRUCTURED = "application/cloudevents+json";
    public static final String BATCH = "application/cloudevents-batch+json";

    private final ObjectMapper json;

    public EventReader(ObjectMapper json) {
        this.json = json;
    }

    /**
     * @param contentType the request's Content-Type, or null
     * @param headers     request headers, names in any case
     */
    public List<ObjectNode> read(String contentType, Iterable<Map.Entry<String, String>> headers, byte[] body) {
        String mediaType = mediaType(contentType);
        String specversion = null;
        for (Map.Entry<String, String> h : headers) {
            if (h.getKey().equalsIgnoreCase("ce-specversion")) {
                specversion = h.getValue();
            }
        }
        if (STRUCTURED.equals(mediaType)) {
            return List.of(object(parse(body), null));
        }
        if (BATCH.equals(mediaType)) {
            JsonNode tree = parse(body);
            if (!(tree instanceof ArrayNode array)) {
                throw GateError.invalid("a batch must be a JSON array of CloudEvents", null, null);
            }
            if (array.isEmpty()) {
                throw GateError.invalid("the batch is empty", null, null);
            }
            List<ObjectNode> events = new ArrayList<>(array.size());
            for (int i = 0; i < array.size(); i++) {
                events.add(object(array.get(i), i));
            }
            return events;
        }
        if (specversion != null) {
            return List.of(binary(mediaType, contentType, headers, body));
        }
        throw new GateError(415, "unsupported-media-type", "Content-Type '" + contentType
                + "' is not a CloudEvent: send " + STRUCTURED + ", " + BATCH
                + ", or binary mode (ce-specversion, ce-id, ce-source, ce-type headers with a JSON or text body)",
                null, null);
    }

    private ObjectNode binary(String mediaType, String contentType, Iterable<Map.Entry<String, String>> headers,
            byte[] body) {
        ObjectNode event = json.createObjectNode();
        for (Map.Entry<String, String> h : headers) {
            String name = h.getKey().toLowerCase(Locale.ROOT);
            if (name.startsWith("ce-") && name.length() > 3) {
                event.put(name.substring(3), percentDecoded(h.getKey(), h.getValue()));
            }
        }
        if (body.length == 0) {
            return event;
        }
        if (mediaType == null) {
            throw new GateError(415, "unsupported-media-type",
                    "binary-mode event with a body needs a Content-Type (JSON or text)", null, null);
        }
        event.put("datacontenttype", contentType);
        if (isJson(mediaType)) {
            event.set("data", parse(body));
        } else if (mediaType.startsWith("text/")) {
            event.put("data", new String(body, StandardCharsets.UTF_8));
        } else {
            throw new GateError(415, "unsupported-media-type", "binary-mode data of type '" + mediaType
                    + "' is not accepted: send JSON or text, or use structured mode with data_base64", null, null);
        }
        return event;
    }

    /** The HTTP binding percent-encodes characters outside printable ASCII in header values. */
    private static String percentDecoded(String header, String value) {
        try {
            return URLDecoder.decode(value.replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw GateError.invalid("header " + header + " is not correctly percent-encoded: " + e.getMessage(), null,
                    header.substring(3).toLowerCase(Locale.ROOT));
        }
    }

    static boolean isJson(String mediaType) {
        return mediaType.equals("application/json") || mediaType.endsWith("+json");
    }

    private JsonNode parse(byte[] body) {
        try {
            JsonNode tree = json.readTree(body);
            if (tree == null || tree.isMissingNode()) {
                throw GateError.invalid("the body is empty", null, null);
            }
            return tree;
        } catch (JsonProcessingException e) {
            throw GateError.invalid("the body is not valid JSON: " + e.getOriginalMessage(), null, null);
        } catch (IOException e) {
            throw GateError.invalid("the body cannot be read: " + e.getMessage(), null, null);
        }
    }

    private static ObjectNode object(JsonNode node, Integer index) {
        if (node instanceof ObjectNode o) {
            return o;
        }
        throw GateError.invalid("a CloudEvent must be a JSON object", index, null);
    }

    public static String mediaType(String contentType) {
        if (contentType == null || contentType.isBlank()) {
            return null;
        }
        int semi = contentType.indexOf(';');
        return (semi < 0 ? contentType : contentType.substring(0, semi)).strip().toLowerCase(Locale.ROOT);
    }
}
