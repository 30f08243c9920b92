package dev.eventline.faults;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.eventline.testsupport.GateClient;
import io.micrometer.core.instrument.MeterRegistry;
import io.restassured.http.ContentType;

/** What the failure tests do again and again: send a scripted event, read the dead-letter queue, read a meter. */
final class Faults {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final GateClient gate;
    private final MeterRegistry registry;

    Faults(URI events, MeterRegistry registry) {
        this.gate = new GateClient(events);
        this.registry = registry;
    }

    void send(String type, String id, String key, Script script) {
        gate.deliver(List.of(GateClient.event(id, type, key, script)), 5);
    }

    /** Sends these events of one key in one request, in this order; each runs {@code script.apply(id)}. */
    void sendInOrder(String type, String key, List<String> ids, java.util.function.Function<String, Script> script) {
        gate.deliver(ids.stream().map(id -> GateClient.event(id, type, key, script.apply(id))).toList(), 5);
    }

    /** Sends two events in one request: the gate publishes them in this order, back to back. */
    void sendBoth(String type, String firstId, Script first, String secondId, Script second) {
        gate.deliver(List.of(GateClient.event(firstId, type, "k-" + firstId, first),
                GateClient.event(secondId, type, "k-" + secondId, second)), 5);
    }

    /** The dead-lettered events of a function matching the query (admin endpoint), e.g. {@code id=...}. */
    static JsonNode deadLetters(String function, Map<String, String> query) {
        String body = given().auth().oauth2(FaultProfile.TOKEN).queryParams(query)
                .get("/admin/functions/" + function + "/dead-letters").then().statusCode(200).extract().asString();
        try {
            return JSON.readTree(body);
        } catch (Exception e) {
            throw new IllegalStateException(body, e);
        }
    }

    /** Waits until the event is in the function's dead-letter queue; @return its entry */
    static JsonNode awaitDeadLetter(String function, String id) {
        JsonNode[] found = new JsonNode[1];
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> {
            JsonNode page = deadLetters(function, Map.of("id", id));
            found[0] = page.path("events").path(0);
            return page.path("matched").asInt() == 1;
        });
        return found[0];
    }

    static JsonNode admin(String function, String action, Map<String, Object> request) {
        String body = given().auth().oauth2(FaultProfile.TOKEN).contentType(ContentType.JSON).body(request)
                .post("/admin/functions/" + function + "/dead-letters/" + action).then().statusCode(200).extract()
                .asString();
        try {
            return JSON.readTree(body);
        } catch (Exception e) {
            throw new IllegalStateException(body, e);
        }
    }

    /** Current value of a counter or gauge {@code eventline.<name>} for one function; 0 before it exists. */
    double meter(String name, String function) {
        return Optional.ofNullable(registry.find("eventline." + name).tag("function", function).meter())
                .map(m -> m.measure().iterator().next().getValue()).orElse(0.0);
    }
}
