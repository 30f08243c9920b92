package dev.eventline.gate;

import java.util.Map;

import io.quarkus.test.junit.QuarkusTestProfile;

/**
 * The gate alone with a producer key (not open), before two functions without handlers: {@code tiny}, whose
 * one partition holds 3 events, and {@code roomy}. The gate reads depths once, at start: its view goes stale,
 * as when producers bypass it, so the broker's own cap is what refuses.
 */
public class DoorProfile implements QuarkusTestProfile {

    public static final String KEY = "door-producer-key-0123456789";

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("eventline.functions.dir", "src/test/resources/functions-tiny",
                "eventline.functions.enabled", "none", "eventline.monitor.interval", "1h",
                "eventline.gate.open", "false", "eventline.gate.producers.door.key", KEY);
    }
}
