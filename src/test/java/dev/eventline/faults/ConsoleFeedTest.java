package dev.eventline.faults;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.eventline.testsupport.BrokerResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.response.Response;

/**
 * The console's door without a browser: the feed needs the admin token, speaks server-sent events with a whole
 * snapshot in each, holds a bounded number of watchers, and the page loads nothing from elsewhere.
 */
@QuarkusTest
@QuarkusTestResource(BrokerResource.class)
@TestProfile(FaultProfile.class)
class ConsoleFeedTest {

    private static final Pattern ELSEWHERE = Pattern.compile("(?i)(https?:)?//[a-z0-9.-]+\\.[a-z]{2,}");

    @TestHTTPResource("/admin/console/stream")
    URI stream;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    @Test
    void theFeedNeedsTheTokenAndSendsWholeSnapshots() throws Exception {
        given().get("/admin/console/stream").then().statusCode(401);
        given().auth().oauth2("wrong-token-0123456789").get("/admin/console/stream").then().statusCode(401);

        HttpResponse<InputStream> feed = open();
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(feed.body(), StandardCharsets.UTF_8))) {
            assertEquals(200, feed.statusCode());
            assertTrue(feed.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
            // read on another thread, with a deadline: a feed that never sends fails the test instead of hanging it
            JsonNode snapshot = CompletableFuture.supplyAsync(() -> firstSnapshot(lines)).get(30, TimeUnit.SECONDS);
            assertTrue(snapshot != null, "a snapshot came");
            List<String> names = new ArrayList<>();
            snapshot.path("functions").forEach(f -> names.add(f.path("name").asText()));
            // every described function, also one no instance runs here (crashy: its tests start its instances)
            assertEquals(List.of("crashy", "flaky", "fragile", "relaxed", "slow"), names.stream().sorted().toList());
            JsonNode flaky = null;
            for (JsonNode f : snapshot.path("functions")) {
                if (f.path("name").asText().equals("flaky")) {
                    flaky = f;
                }
            }
            assertEquals(1, flaky.path("partitions").size(), flaky.toString());
            assertTrue(flaky.path("partitions").path(0).path("queue").asText().endsWith("flaky-0"), flaky.toString());
            assertTrue(flaky.has("deadLetterMax") && flaky.has("drainPerSecond") && flaky.has("decisions"),
                    flaky.toString());
        } finally {
            feed.body().close();
        }
    }

    @Test
    void sixteenFeedsAreOpenAtOnceAndNoMore() throws Exception {
        List<HttpResponse<InputStream>> open = new ArrayList<>();
        try {
            // feeds of earlier tests are freed once the server sees them closed: until then, try again
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                for (int i = open.size(); i < 16; i++) {
                    HttpResponse<InputStream> r = open();
                    if (r.statusCode() != 200) {
                        r.body().close();
                        return false;
                    }
                    open.add(r);
                }
                return true;
            });
            assertEquals(16, open.size());
            HttpResponse<InputStream> refused = open();
            refused.body().close();
            assertEquals(503, refused.statusCode());
            assertTrue(refused.headers().firstValue("Retry-After").isPresent());

            open.remove(0).body().close(); // one closes: its place is free again
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                HttpResponse<InputStream> r = open();
                if (r.statusCode() == 200) {
                    open.add(r);
                    return true;
                }
                r.body().close();
                return false;
            });
        } finally {
            for (HttpResponse<InputStream> r : open) {
                r.body().close();
            }
        }
    }

    @Test
    void thePageLoadsNothingFromElsewhere() {
        for (String path : List.of("/console", "/console/console.js", "/console/console.css")) {
            Response r = given().get(path);
            assertEquals(200, r.statusCode(), path);
            String policy = r.header("Content-Security-Policy");
            assertTrue(policy != null && policy.contains("default-src 'none'") && policy.contains("script-src 'self'"),
                    path + ": " + policy);
            assertFalse(ELSEWHERE.matcher(r.asString()).find(), path + " names another origin");
        }
        given().get("/console/other.js").then().statusCode(404);
    }

    private static JsonNode firstSnapshot(BufferedReader lines) {
        try {
            for (String line; (line = lines.readLine()) != null;) {
                if (line.startsWith("data: ")) {
                    return new ObjectMapper().readTree(line.substring(6));
                }
            }
            return null;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private HttpResponse<InputStream> open() throws Exception {
        return http.send(HttpRequest.newBuilder(stream).header("Authorization", "Bearer " + FaultProfile.TOKEN)
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofInputStream());
    }
}
