package dev.eventline.faults;

import java.util.Map;

import io.quarkus.test.junit.QuarkusTestProfile;

/** The test functions of {@code functions-faults} (crashy stays off: its tests start its instances), admin on. */
public class FaultProfile implements QuarkusTestProfile {

    public static final String TOKEN = "test-admin-token-0123456789";

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("eventline.functions.dir", "src/test/resources/functions-faults",
                "eventline.functions.enabled", "flaky,relaxed,slow,fragile",
                "eventline.admin.enabled", "true",
                "eventline.admin.token", TOKEN,
                "eventline.monitor.interval", "300ms");
    }
}
