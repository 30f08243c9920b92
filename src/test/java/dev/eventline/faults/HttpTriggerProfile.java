package dev.eventline.faults;

import java.util.Map;

import io.quarkus.test.junit.QuarkusTestProfile;

/** The process a Knative service runs: HTTP trigger for two test functions, no gate, no consumers; admin on. */
public class HttpTriggerProfile implements QuarkusTestProfile {

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("eventline.functions.dir", "src/test/resources/functions-faults",
                "eventline.functions.enabled", "flaky,relaxed",
                "eventline.trigger.mode", "http",
                "eventline.gate.enabled", "false",
                "eventline.admin.enabled", "true",
                "eventline.admin.token", FaultProfile.TOKEN);
    }
}
