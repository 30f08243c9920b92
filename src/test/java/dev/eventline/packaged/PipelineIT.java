package dev.eventline.packaged;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.URI;
import java.time.Duration;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import dev.eventline.testsupport.BrokerResource;
import dev.eventline.testsupport.OrderScenario;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusIntegrationTest;
import io.restassured.path.json.JsonPath;

/**
 * The key end-to-end path against the packaged application (the jar in {@code ./mvnw verify}; the native
 * executable through {@code ./native-build.sh --test}): the descriptions built into the artifact, the gate,
 * ordered processing over the partitions, health and metrics. Nothing here can look inside the process.
 */
@QuarkusIntegrationTest
@QuarkusTestResource(BrokerResource.class)
class PipelineIT {

    @TestHTTPResource("/events")
    URI gate;

    @Test
    void ordersFlowThroughTheGateAndPartitionsInOrder() throws Exception {
        OrderScenario scenario = new OrderScenario("it-" + UUID.randomUUID(), 150, 4, 11);
        double[] drain = { 0 };
        scenario.send(gate, 4, 25);
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(250)).until(() -> {
            drain[0] = Math.max(drain[0], drainRate());
            return report().getLong("shipped") >= 150;
        });
        // the drain rate comes from the consumers' progress reports on the status exchange (JSON both ways)
        await().atMost(Duration.ofSeconds(10)).until(() -> Math.max(drain[0], drainRate()) > 0);
        JsonPath report = report();
        assertEquals(scenario.totalEvents(), report.getLong("applied"), "every accepted event applied once");
        assertEquals(0, report.getLong("violations"), "ordering violations");
        assertEquals(0, report.getLong("duplicates"));
    }

    @Test
    void theGateRefusesWhatCanNeverBeProcessed() {
        given().contentType("application/cloudevents+json")
                .body("{\"specversion\":\"1.0\",\"id\":\"x\",\"source\":\"/it\",\"type\":\"no.such.type\",\"subject\":\"k\"}")
                .post("/events").then().statusCode(400).body("error", equalTo("invalid-event"));
        // the HTTP trigger is off in queue mode: a CloudEvent posted to / would bypass the partitions
        given().header("ce-specversion", "1.0").header("ce-id", "y").header("ce-source", "/it")
                .header("ce-type", "order.created").contentType("application/json").body("{\"orderId\":\"o\",\"version\":1}")
                .post("/").then().statusCode(404).body("error", equalTo("http-trigger-off"));
    }

    @Test
    void healthAndMetricsAreServed() {
        await().atMost(Duration.ofSeconds(60)).until(() -> given().get("/q/health/ready").statusCode() == 200);
        given().get("/q/health/live").then().statusCode(200);
        given().get("/q/health/group/backpressure").then().statusCode(200);
        given().get("/q/metrics").then().statusCode(200)
                .body(containsString("eventline_dead_letter_limit_events"))
                .body(containsString("eventline_processed_events_total"));
    }

    private static double drainRate() {
        String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        Matcher m = Pattern.compile(
                "(?m)^eventline_function_drain_rate_events_per_second\\{[^}]*function=\"orders\"[^}]*} (\\S+)$").matcher(metrics);
        if (!m.find()) {
            throw new AssertionError("no eventline_function_drain_rate_events_per_second for orders in /q/metrics");
        }
        return Double.parseDouble(m.group(1));
    }

    private static JsonPath report() {
        return given().get("/orderReport").then().statusCode(200).extract().jsonPath();
    }
}
