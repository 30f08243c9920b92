package dev.eventline.topology;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import java.time.Duration;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.Test;

import dev.eventline.testsupport.BrokerResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/**
 * With declaration off and nothing provisioned, the runtime creates nothing, reports what is missing in its
 * readiness check, and the gate refuses with 503 rather than accept events it cannot route.
 */
@QuarkusTest
@QuarkusTestResource(BrokerResource.class)
@TestProfile(VerifyModeTest.NothingProvisioned.class)
class VerifyModeTest {

    public static class NothingProvisioned implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("eventline.topology.declare", "false",
                    "eventline.topology.prefix", "unprovisioned-" + UUID.randomUUID() + "-");
        }
    }

    @Test
    void reportsMissingTopologyAndRefusesEvents() {
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> given().get("/q/health/ready").then()
                .statusCode(503).body("checks[0].data.topology-difference-0", containsString("is missing")));
        given().get("/q/health/ready").then().body("checks[0].data.error", containsString("NOT_FOUND"));
        given().contentType("application/cloudevents+json").body("{\"specversion\":\"1.0\",\"id\":\"v1\","
                + "\"source\":\"/t\",\"type\":\"order.created\",\"subject\":\"o\",\"data\":{\"orderId\":\"o\",\"version\":1}}")
                .post("/events").then().statusCode(503).body("error", equalTo("unavailable"));
    }
}
