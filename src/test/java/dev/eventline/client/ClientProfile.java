package dev.eventline.client;

import java.util.HashMap;
import java.util.Map;

import io.quarkus.test.junit.QuarkusTestProfile;

/**
 * The gate the producer client's tests run against: the functions of {@code functions-client}, two producers
 * (one granted every type, one {@code client.ordered} only), admin on (to pause intake), small size limits
 * (so 413s are cheap), a short hold and a short Retry-After cap (so throttling tests are quick).
 */
public class ClientProfile implements QuarkusTestProfile {

    static final String KEY = "client-test-key-0123456789";
    static final String NARROW = "narrow-test-key-0123456789";
    static final String ADMIN = "client-admin-token-0123456789";
    static final int MAX_EVENT_BYTES = 4096;
    static final int MAX_REQUEST_BYTES = 32768;
    static final int MAX_BATCH_EVENTS = 10;

    @Override
    public Map<String, String> getConfigOverrides() {
        Map<String, String> c = new HashMap<>();
        c.put("eventline.functions.dir", "src/test/resources/functions-client");
        c.put("eventline.functions.enabled", "ordered,throttled,capped");
        c.put("eventline.gate.open", "false");
        c.put("eventline.gate.producers.client.key", KEY);
        c.put("eventline.gate.producers.narrow.key", NARROW);
        c.put("eventline.gate.producers.narrow.types", "client.ordered");
        c.put("eventline.gate.max-event-bytes", String.valueOf(MAX_EVENT_BYTES));
        c.put("eventline.gate.max-request-bytes", String.valueOf(MAX_REQUEST_BYTES));
        c.put("eventline.gate.max-batch-events", String.valueOf(MAX_BATCH_EVENTS));
        c.put("eventline.gate.max-delay", "500ms");
        c.put("eventline.gate.max-retry-after", "2s");
        c.put("eventline.gate.confirm-timeout", "3s");
        c.put("eventline.monitor.interval", "200ms");
        c.put("eventline.admin.enabled", "true");
        c.put("eventline.admin.token", ADMIN);
        c.put("quarkus.http.test-port", "0"); // a free port: other builds on this machine may hold 8081
        return c;
    }
}
