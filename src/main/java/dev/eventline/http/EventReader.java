package dev.eventline.http;

import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.eventline.cloudevents.AttributeBounds;

/**
 * Turns an HTTP request into structured CloudEvents (JSON objects), following the CloudEvents HTTP binding:
 * <ul>
 * <li>structured mode: {@code Content-Type: application/cloudevents+json}, the body is one event;</li>
 * <li>batch mode: {@code application/cloudevents-batch+json}, the body is a JSON array of events;</li>
 * <li>binary mode: attributes in {@code ce-*} headers, the body is the event's data, JSON or text.</li>
 * </ul>
 * Anything else is {@code 415}. Memory stays proportional to what is allowed, not to what is sent: a batch is
 * counted and each event's JSON text measured with the streaming parser before any event is built
 * ({@code 413} at the first event over a limit), and {@link Events#get} builds one event at a time.
 */
public final class EventReader {

    public static final String STRUCTURED = "application/cloudevents+json";
    public static final String BATCH = "application/cloudevents-batch+json";

    private final ObjectMapper json;
    private final int maxBatchEvents;
    private final int maxEventBytes;

    /** A reader without limits of its own (the request body's limit still applies). */
    public EventReader(ObjectMapper json) {
        this(json, Integer.MAX_VALUE, Integer.MAX_VALUE);
    }

    /**
     * @param maxBatchEvents most events in a batch
     * @param maxEventBytes  largest JSON text of one event, bytes (a binary-mode body counts as its text)
     */
    public EventReader(ObjectMapper json, int maxBatchEvents, int maxEventBytes) {
        this.json = json;
        this.maxBatchEvents = maxBatchEvents;
        this.maxEventBytes = maxEventBytes;
    }

    /** The events of a request, counted and measured; each is built when asked for. */
    public interface Events {
        int size();

        /** @return whether the request was a batch (events are then named by their index) */
        boolean batch();

        ObjectNode get(int index);
    }

    /** Every event of the request, built. */
    public List<ObjectNode> read(String contentType, Iterable<Map.Entry<String, String>> headers, byte[] body) {
        Events events = events(contentType, headers, body);
        List<ObjectNode> all = new ArrayList<>(events.size());
        for (int i = 0; i < events.size(); i++) {
            all.add(events.get(i));
        }
        return all;
    }

    /**
     * @param contentType the request's Content-Type, or null
     * @param headers     request headers, names in any case
     * @throws HttpError 400, 413 or 415
     */
    public Events events(String contentType, Iterable<Map.Entry<String, String>> headers, byte[] body) {
        String mediaType = mediaType(contentType);
        if (STRUCTURED.equals(mediaType)) {
            measure(body.length, null);
            return new Single(object(parse(body, 0, body.length), null));
        }
        if (BATCH.equals(mediaType)) {
            return new Batch(body, scan(body));
        }
        if (header(headers, "ce-specversion") != null) {
            return new Single(binary(mediaType, contentType, headers, body));
        }
        throw new HttpError(415, "unsupported-media-type", "Content-Type " + AttributeBounds.quoted(String.valueOf(
                contentType)) + " is not a CloudEvent: send " + STRUCTURED + ", " + BATCH
                + ", or binary mode (ce-specversion, ce-id, ce-source, ce-type headers with a JSON or text body)",
                null, null);
    }

    /** A request of one event, structured or binary. */
    private record Single(ObjectNode event) implements Events {
        @Override
        public int size() {
            return 1;
        }

        @Override
        public boolean batch() {
            return false;
        }

        @Override
        public ObjectNode get(int index) {
            return event;
        }
    }

    /** A batch's events, as offsets into the body; built one at a time. */
    private final class Batch implements Events {
        private final byte[] body;
        private final long[] spans;

        Batch(byte[] body, long[] spans) {
            this.body = body;
            this.spans = spans;
        }

        @Override
        public int size() {
            return spans.length / 2;
        }

        @Override
        public boolean batch() {
            return true;
        }

        @Override
        public ObjectNode get(int index) {
            return (ObjectNode) parse(body, (int) spans[2 * index], (int) spans[2 * index + 1]);
        }
    }

    /**
     * Walks the batch with the streaming parser, building nothing.
     *
     * @return offset and length of each event's JSON text, in pairs
     */
    private long[] scan(byte[] body) {
        try (JsonParser p = json.getFactory().createParser(body)) {
            JsonToken first = p.nextToken();
            if (first != JsonToken.START_ARRAY) {
                throw HttpError.invalid(first == null ? "the body is empty"
                        : "a batch must be a JSON array of CloudEvents", null, null);
            }
            List<Long> spans = new ArrayList<>();
            for (JsonToken t = p.nextToken(); t != JsonToken.END_ARRAY; t = p.nextToken()) {
                int index = spans.size() / 2;
                checkNext(t, index);
                long start = p.currentTokenLocation().getByteOffset();
                p.skipChildren();
                long length = p.currentLocation().getByteOffset() - start;
                measure(length, index);
                spans.add(start);
                spans.add(length);
            }
            requireEnd(p);
            if (spans.isEmpty()) {
                throw HttpError.invalid("the batch is empty", null, null);
            }
            return spans.stream().mapToLong(Long::longValue).toArray();
        } catch (JsonProcessingException e) {
            throw notJson(e);
        } catch (IOException e) {
            throw HttpError.invalid("the body cannot be read: " + e.getMessage(), null, null);
        }
    }

    private void checkNext(JsonToken t, int index) {
        if (index == maxBatchEvents) {
            throw new HttpError(413, "batch-too-large", "the batch has more than " + maxBatchEvents
                    + " events (eventline.gate.max-batch-events)", null, null);
        }
        if (t != JsonToken.START_OBJECT) {
            throw HttpError.invalid("a CloudEvent must be a JSON object", index, null);
        }
    }

    /** @throws HttpError 413 when one event's JSON text is over the limit */
    private void measure(long bytes, Integer index) {
        if (bytes > maxEventBytes) {
            throw new HttpError(413, "event-too-large", "an event of " + bytes + " bytes; the limit is "
                    + maxEventBytes + " (eventline.gate.max-event-bytes)", index, null);
        }
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
            throw new HttpError(415, "unsupported-media-type",
                    "binary-mode event with a body needs a Content-Type (JSON or text)", null, null);
        }
        measure(body.length, null);
        event.put("datacontenttype", contentType);
        if (isJson(mediaType)) {
            event.set("data", parse(body, 0, body.length));
        } else if (mediaType.startsWith("text/")) {
            event.put("data", new String(body, StandardCharsets.UTF_8));
        } else {
            throw new HttpError(415, "unsupported-media-type", "binary-mode data of type " + AttributeBounds.quoted(
                    mediaType) + " is not accepted: send JSON or text, or use structured mode with data_base64", null,
                    null);
        }
        return event;
    }

    private static String header(Iterable<Map.Entry<String, String>> headers, String name) {
        for (Map.Entry<String, String> h : headers) {
            if (h.getKey().equalsIgnoreCase(name)) {
                return h.getValue();
            }
        }
        return null;
    }

    /** The HTTP binding percent-encodes characters outside printable ASCII in header values. */
    private static String percentDecoded(String header, String value) {
        try {
            return URLDecoder.decode(value.replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw HttpError.invalid("header " + header + " is not correctly percent-encoded: " + e.getMessage(), null,
                    header.substring(3).toLowerCase(Locale.ROOT));
        }
    }

    static boolean isJson(String mediaType) {
        return mediaType.equals("application/json") || mediaType.endsWith("+json");
    }

    /** One JSON value, nothing after it. */
    private JsonNode parse(byte[] body, int offset, int length) {
        try (JsonParser p = json.getFactory().createParser(body, offset, length)) {
            if (p.nextToken() == null) {
                throw HttpError.invalid("the body is empty", null, null);
            }
            JsonNode tree = json.readTree(p);
            requireEnd(p);
            return tree;
        } catch (JsonProcessingException e) {
            throw notJson(e);
        } catch (IOException e) {
            throw HttpError.invalid("the body cannot be read: " + e.getMessage(), null, null);
        }
    }

    private static void requireEnd(JsonParser p) throws IOException {
        if (p.nextToken() != null) {
            throw HttpError.invalid("the body is not valid JSON: more than one JSON value", null, null);
        }
    }

    private static HttpError notJson(JsonProcessingException e) {
        return HttpError.invalid("the body is not valid JSON: " + e.getOriginalMessage(), null, null);
    }

    private static ObjectNode object(JsonNode node, Integer index) {
        if (node instanceof ObjectNode o) {
            return o;
        }
        throw HttpError.invalid("a CloudEvent must be a JSON object", index, null);
    }

    public static String mediaType(String contentType) {
        if (contentType == null || contentType.isBlank()) {
            return null;
        }
        int semi = contentType.indexOf(';');
        return (semi < 0 ? contentType : contentType.substring(0, semi)).strip().toLowerCase(Locale.ROOT);
    }
}
