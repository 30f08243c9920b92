package dev.eventline.gate;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;

import java.util.Map;

import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/** With no broker to reach the process still starts, reports not ready, and answers 503, never 202. */
@QuarkusTest
@TestProfile(UnreachableBrokerTest.NoBroker.class)
class UnreachableBrokerTest {

    public static class NoBroker implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            // port 1 on loopback: nothing listens there
            return Map.of("rabbitmq.url", "amqp://guest:guest@127.0.0.1:1/%2F", "rabbitmq.connect-timeout", "1s");
        }
    }

    @Test
    void answers503AndIsNotReady() {
        given().contentType("application/cloudevents+json")
                .body("{\"specversion\":\"1.0\",\"id\":\"u1\",\"source\":\"/t\",\"type\":\"order.created\",\"subject\":\"o\","
                        + "\"data\":{\"orderId\":\"o\",\"version\":1}}")
                .post("/events").then().statusCode(503).body("error", equalTo("unavailable"));
        given().get("/q/health/ready").then().statusCode(503).body("status", equalTo("DOWN"))
                .body("checks[0].data.connected", equalTo(false));
    }

    @Test
    void stillRefusesBadInputWith400() {
        given().contentType("application/cloudevents+json").body("{\"specversion\":\"1.0\"}").post("/events").then()
                .statusCode(400);
    }
}
