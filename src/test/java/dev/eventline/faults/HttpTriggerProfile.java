package dev.eventline.faults;

import java.util.Map;

import io.quarkus.test.junit.QuarkusTestProfile;

/**
 * The process a Knative service runs: HTTP trigger for two test functions, no gate, no consumers, its token;
 * admin on; the dead-letter sink waits 2 s for a confirm.
 */
public class HttpTriggerProfile implements QuarkusTestProfile {

    /** The trigger's token: what the RabbitmqSources send as the password of their sink URI. */
    public static final String TOKEN = "trigger-token-0123456789abcdef";
    public static final String CONFIRM_TIMEOUT = "2s";

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("eventline.functions.dir", "src/test/resources/functions-faults",
                "eventline.functions.enabled", "flaky,relaxed",
                "eventline.trigger.mode", "http",
                "eventline.gate.enabled", "false",
                "eventline.admin.enabled", "true",
                "eventline.admin.token", FaultProfile.TOKEN,
                "eventline.trigger.token", TOKEN,
                "eventline.trigger.confirm-timeout", CONFIRM_TIMEOUT);
    }
}
