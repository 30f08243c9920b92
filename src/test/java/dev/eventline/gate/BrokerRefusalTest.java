package dev.eventline.gate;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.Test;

import dev.eventline.testsupport.BrokerResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.response.Response;

/**
 * A partition queue at its broker-side cap ({@code x-max-length}, overflow reject-publish) nacks; the gate
 * answers 503 naming exactly the events that were not confirmed, never 202.
 */
@QuarkusTest
@QuarkusTestResource(BrokerResource.class)
@TestProfile(BrokerRefusalTest.TinyFunction.class)
class BrokerRefusalTest {

    public static class TinyFunction implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("eventline.functions.dir", "src/test/resources/functions-tiny",
                    "eventline.functions.enabled", "none");
        }
    }

    private static String event(String id) {
        return "{\"specversion\":\"1.0\",\"id\":\"" + id + "\",\"source\":\"/t\",\"type\":\"tiny.event\",\"subject\":\"k\"}";
    }

    @Test
    void answers503ForExactlyTheEventsTheBrokerRefused() {
        String run = UUID.randomUUID().toString();
        int accepted = 0;
        Response refused = null;
        for (int i = 0; i < 20 && refused == null; i++) {
            Response r = given().contentType("application/cloudevents+json").body(event(run + "-" + i)).post("/events");
            if (r.statusCode() == 202) {
                accepted++;
            } else {
                refused = r;
                refused.then().statusCode(503).body("error", equalTo("unavailable"))
                        .body("failed", hasSize(1)).body("failed[0].id", equalTo(run + "-" + i))
                        .body("failed[0].reason", containsString("refused"));
            }
        }
        assertTrue(refused != null, "the queue's cap (3) was never enforced");
        assertTrue(accepted >= 3, "events below the cap are accepted: " + accepted);
        String batch = "[" + event(run + "-a") + "," + event(run + "-b") + "]";
        given().contentType("application/cloudevents-batch+json").body(batch).post("/events").then()
                .statusCode(503).body("failed", hasSize(2)).body("failed.id", org.hamcrest.Matchers.contains(run + "-a", run + "-b"));
    }
}
