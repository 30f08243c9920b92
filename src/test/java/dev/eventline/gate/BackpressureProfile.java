package dev.eventline.gate;

import java.util.HashMap;
import java.util.Map;

import io.quarkus.test.junit.QuarkusTestProfile;

/** A slow function and an unconsumed one, producers with keys, a short hold bound and fast depth readings. */
public class BackpressureProfile implements QuarkusTestProfile {

    static final String FLOOD = "flood-key-0123456789abcdef";
    static final String POLITE = "polite-key-0123456789abcdef";
    static final String CLIENT = "client-key-0123456789abcdef";
    static final String NARROW = "narrow-key-0123456789abcdef";

    @Override
    public Map<String, String> getConfigOverrides() {
        Map<String, String> c = new HashMap<>();
        c.put("eventline.functions.dir", "src/test/resources/functions-backpressure");
        c.put("eventline.functions.enabled", "sluggish");
        c.put("eventline.gate.open", "false");
        c.put("eventline.gate.producers.flood.key", FLOOD);
        c.put("eventline.gate.producers.polite.key", POLITE);
        c.put("eventline.gate.producers.client.key", CLIENT);
        c.put("eventline.gate.producers.narrow.key", NARROW);
        c.put("eventline.gate.producers.narrow.types", "load.slow");
        c.put("eventline.gate.max-delay", "1s");
        c.put("eventline.monitor.interval", "200ms");
        c.put("eventline.gate.confirm-timeout", "3s");
        return c;
    }
}
