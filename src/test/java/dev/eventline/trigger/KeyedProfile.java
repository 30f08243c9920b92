package dev.eventline.trigger;

import java.util.Map;

import io.quarkus.test.junit.QuarkusTestProfile;

/** The function of {@code functions-keyed}: two partitions with key concurrency. */
public class KeyedProfile implements QuarkusTestProfile {

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("eventline.functions.dir", "src/test/resources/functions-keyed",
                "eventline.functions.enabled", "keyed");
    }
}
