package dev.eventline.client;

import java.io.IOException;
import java.io.UncheckedIOException;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One event the client holds until the gate accepts it or it is rejected: the JSON as it was when
 * {@code send} took it (later changes to the caller's object do not reach the gate), its partition key and
 * its id (to check the gate's {@code failed} list).
 */
final class Pending {

    static final ObjectMapper JSON = new ObjectMapper();

    private final byte[] json;
    private final String key;
    private final String id;

    Pending(byte[] json, String key, String id) {
        this.json = json;
        this.key = key;
        this.id = id;
    }

    byte[] json() {
        return json;
    }

    String key() {
        return key;
    }

    /** @return the event's {@code id} attribute, or null */
    String id() {
        return id;
    }

    /** Bytes counted against the buffer: the encoded event and its key. */
    long size() {
        return json.length + 2L * key.length();
    }

    /** The event as an object again, for the rejection handler. */
    ObjectNode event() {
        try {
            return (ObjectNode) JSON.readTree(json);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot happen: the client wrote this JSON itself", e);
        }
    }
}
