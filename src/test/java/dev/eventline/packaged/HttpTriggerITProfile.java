package dev.eventline.packaged;

import java.util.Map;

import io.quarkus.test.junit.QuarkusTestProfile;

/** The packaged application as a Knative service for the orders function runs it. */
public class HttpTriggerITProfile implements QuarkusTestProfile {

    static final String TOKEN = "it-admin-token-0123456789";
    /** The trigger's token, as the RabbitmqSources send it. */
    static final String TRIGGER_TOKEN = "it-trigger-token-0123456789";

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("eventline.trigger.mode", "http",
                "eventline.functions.enabled", "orders",
                "eventline.gate.enabled", "false",
                "eventline.admin.enabled", "true",
                "eventline.admin.token", TOKEN,
                "eventline.trigger.token", TRIGGER_TOKEN,
                "orders.max-tracked", "3");
    }
}
