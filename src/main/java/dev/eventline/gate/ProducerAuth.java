package dev.eventline.gate;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import dev.eventline.config.EventlineConfig;
import dev.eventline.http.HttpError;

/**
 * Who may post to the gate: producers configured by name with an API key (sent as
 * {@code Authorization: Bearer <key>}) and, optionally, the event types they may send. Without any producer
 * the gate refuses to start, unless explicitly opened for development ({@code eventline.gate.open=true}),
 * where every request counts as producer {@code anonymous}.
 */
public final class ProducerAuth {

    static final int MIN_KEY = 16;
    public static final String ANONYMOUS = "anonymous";

    private record Known(String name, byte[] key, Optional<Set<String>> types) {
    }

    private final boolean open;
    private final List<Known> producers = new ArrayList<>();

    /** @throws IllegalStateException when no producer is configured and the gate is not open, or a key is weak */
    public ProducerAuth(EventlineConfig.Gate config) {
        this.open = config.open();
        for (Map.Entry<String, EventlineConfig.Producer> p : config.producers().entrySet()) {
            String key = p.getValue().key().trim();
            if (key.length() < MIN_KEY) {
                throw new IllegalStateException("eventline.gate.producers." + p.getKey() + ".key is shorter than "
                        + MIN_KEY + " characters");
            }
            producers.add(new Known(p.getKey(), key.getBytes(StandardCharsets.UTF_8),
                    p.getValue().types().map(Set::copyOf)));
        }
        if (producers.isEmpty() && !open) {
            throw new IllegalStateException("the gate has no producers configured "
                    + "(eventline.gate.producers.<name>.key) and is not open: refusing to accept events from anyone. "
                    + "Configure producer keys, set eventline.gate.open=true for development, or "
                    + "eventline.gate.enabled=false.");
        }
    }

    public boolean isOpen() {
        return open;
    }

    /**
     * @param authorization the request's {@code Authorization} header, or null
     * @return the producer's name
     * @throws HttpError 401 when the credential is missing or unknown (open gate: never)
     */
    public String authenticate(String authorization) {
        if (authorization != null && authorization.startsWith("Bearer ")) {
            byte[] given = authorization.substring(7).trim().getBytes(StandardCharsets.UTF_8);
            for (Known p : producers) {
                if (MessageDigest.isEqual(given, p.key)) {
                    return p.name;
                }
            }
        }
        if (open) {
            return ANONYMOUS;
        }
        throw new HttpError(401, "unauthorized", authorization == null
                ? "missing Authorization: Bearer <producer key>" : "unknown producer key");
    }

    /** @throws HttpError 403 when the producer may not send this type */
    public void authorize(String producer, String type, Integer index) {
        for (Known p : producers) {
            if (p.name.equals(producer) && p.types.isPresent() && !p.types.get().contains(type)) {
                throw new HttpError(403, "forbidden", "producer '" + producer + "' may not send events of type '"
                        + type + "'; nothing was published", index, "type");
            }
        }
    }
}
