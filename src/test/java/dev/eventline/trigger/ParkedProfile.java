package dev.eventline.trigger;

import java.util.Map;

import io.quarkus.test.junit.QuarkusTestProfile;

/** The function of {@code functions-parked}: parked mode, with the admin endpoints on. */
public class ParkedProfile implements QuarkusTestProfile {

    public static final String TOKEN = "parked-admin-token-0123456789";

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("eventline.functions.dir", "src/test/resources/functions-parked",
                "eventline.functions.enabled", "parked",
                "eventline.admin.enabled", "true",
                "eventline.admin.token", TOKEN,
                "eventline.monitor.interval", "200ms");
    }
}
