package dev.eventline.faults;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import dev.eventline.admin.AdminRoutes;
import dev.eventline.config.EventlineConfig;
import dev.eventline.testsupport.BrokerResource;
import dev.eventline.testsupport.GateClient;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;

/**
 * The dead-letter queue as operators meet it: bounded without dropping anything, listed with reasons,
 * replayed back into processing, purged only when confirmed, and never reachable without the credential.
 */
@QuarkusTest
@QuarkusTestResource(BrokerResource.class)
@TestProfile(FaultProfile.class)
class DeadLetterAdminTest extends FaultTestBase {

    @TestHTTPResource("/")
    URI base;

    @Test
    void aFullDeadLetterQueueHoldsTheEventInItsPartitionAndDropsNothing() {
        List<String> bad = List.of("full-1-" + run, "full-2-" + run, "full-3-" + run);
        String good = "full-good-" + run;
        List<com.fasterxml.jackson.databind.node.ObjectNode> batch = new ArrayList<>();
        bad.forEach(id -> batch.add(GateClient.event(id, "fault.fragile", "k-" + id, Script.failing(99))));
        batch.add(GateClient.event(good, "fault.fragile", "k-" + good, Script.ok()));
        new GateClient(events).deliver(batch, 5);

        // deadLetterMax is 2: the third event is refused by the dead-letter queue and stays in its partition
        await().atMost(Duration.ofSeconds(30)).until(() -> faults.meter("dead.letter.blocked", "fragile") == 1);
        await().atMost(Duration.ofSeconds(30)).until(() -> faults.meter("dead.letter.depth", "fragile") == 2);
        assertEquals(2, faults.meter("dead.letter.limit", "fragile"));
        assertEquals(2, Faults.deadLetters("fragile", Map.of()).path("depth").asInt());
        assertEquals(0, ledger.applied(good), "the partition waits behind the event it cannot dead-letter");

        // making room lets the held event in, and the partition moves on
        JsonNode purged = Faults.admin("fragile", "purge", Map.of("ids", List.of(bad.get(0)), "confirm", "fragile"));
        assertEquals(1, purged.path("purged").asInt());
        await().atMost(Duration.ofSeconds(30)).until(() -> ledger.applied(good) == 1);
        await().atMost(Duration.ofSeconds(30)).until(() -> faults.meter("dead.letter.blocked", "fragile") == 0);
        JsonNode left = Faults.deadLetters("fragile", Map.of());
        assertEquals(List.of(bad.get(1), bad.get(2)), ids(left));

        JsonNode all = Faults.admin("fragile", "purge", Map.of("all", true, "confirm", "fragile"));
        assertEquals(2, all.path("purged").asInt());
    }

    @Test
    void listsDeadLettersWithTheirReasonsFilteredAndPaged() throws Exception {
        String key = "list-" + run;
        List<com.fasterxml.jackson.databind.node.ObjectNode> batch = List.of(
                GateClient.event("l1-" + run, "fault.strict", key, new Script(0, false, true, false, 0, false, 0)),
                GateClient.event("l2-" + run, "fault.strict", key, new Script(0, false, false, true, 0, false, 0)),
                GateClient.event("l3-" + run, "fault.strict", key, new Script(0, false, true, false, 0, false, 0)));
        new GateClient(events).deliver(batch, 5);
        await().atMost(Duration.ofSeconds(30))
                .until(() -> Faults.deadLetters("flaky", Map.of("key", key)).path("matched").asInt() == 3);

        JsonNode refused = Faults.deadLetters("flaky", Map.of("key", key, "error", "Refused"));
        assertEquals(List.of("l1-" + run, "l3-" + run), ids(refused));
        assertTrue(refused.path("events").path(0).path("reason").asText().startsWith("non-retryable"));
        JsonNode page2 = Faults.deadLetters("flaky", Map.of("key", key, "offset", "1", "limit", "1"));
        assertTrue(page2.path("more").asBoolean(), page2.toString());
        assertEquals(List.of("l2-" + run), ids(page2));
        JsonNode page3 = Faults.deadLetters("flaky", Map.of("key", key, "offset", "2", "limit", "1"));
        assertEquals(List.of("l3-" + run), ids(page3));
        assertTrue(!page3.path("more").asBoolean(), page3.toString());
        assertEquals(0, Faults.deadLetters("flaky", Map.of("key", key, "type", "fault.other")).path("matched").asInt());
        // a time window over the last failure: all three failed after the test began, none before
        String lastFailure = refused.path("events").path(0).path("lastFailure").asText();
        java.time.Instant failed = java.time.Instant.parse(lastFailure);
        assertEquals(3, Faults.deadLetters("flaky", Map.of("key", key, "since", failed.minusSeconds(60).toString()))
                .path("matched").asInt());
        assertEquals(0, Faults.deadLetters("flaky", Map.of("key", key, "until", failed.minusSeconds(60).toString()))
                .path("matched").asInt());
        given().auth().oauth2(FaultProfile.TOKEN).queryParam("since", "yesterday")
                .get("/admin/functions/flaky/dead-letters").then().statusCode(400)
                .body("message", org.hamcrest.Matchers.containsString("ISO-8601"));

        // the same window in a purge's selection: nothing before the test began
        JsonNode none = Faults.admin("flaky", "purge", Map.of("key", key, "until", failed.minusSeconds(60).toString(),
                "confirm", "flaky"));
        assertEquals(0, none.path("purged").asInt());

        // one event whole: its data and its headers, the failure history among them
        JsonNode one = new com.fasterxml.jackson.databind.ObjectMapper().readTree(given().auth()
                .oauth2(FaultProfile.TOKEN).queryParam("id", "l1-" + run)
                .get("/admin/functions/flaky/dead-letters/event").then().statusCode(200).extract().asString());
        assertEquals("l1-" + run, one.path("event").path("id").asText());
        assertEquals("utf-8", one.path("encoding").asText());
        assertTrue(one.path("data").asText().contains("\"refuse\":true"), one.toString());
        assertTrue(one.path("headers").path("eventline-reason").asText().startsWith("non-retryable"), one.toString());
        given().auth().oauth2(FaultProfile.TOKEN).queryParam("id", "nope-" + run)
                .get("/admin/functions/flaky/dead-letters/event").then().statusCode(404);
        given().queryParam("id", "l1-" + run).get("/admin/functions/flaky/dead-letters/event").then().statusCode(401);

        // listing consumed nothing
        assertEquals(3, Faults.deadLetters("flaky", Map.of("key", key)).path("matched").asInt());

        given().auth().oauth2(FaultProfile.TOKEN).queryParam("limit", "0").get("/admin/functions/flaky/dead-letters")
                .then().statusCode(400);
        given().auth().oauth2(FaultProfile.TOKEN).get("/admin/functions/nope/dead-letters").then().statusCode(404);
    }

    @Test
    void replayRestoresProcessingKeepsTheIdAndCountsReplays() {
        String id = "broken-" + run;
        faults.send("fault.strict", id, "k-" + id, Script.brokenUntilFixed());
        JsonNode dead = Faults.awaitDeadLetter("flaky", id);
        assertEquals(0, dead.path("replays").asInt());
        assertEquals(3, ledger.calls(id));

        // replayed while still broken: a fresh attempt budget, back in the dead-letter queue, replay counted
        JsonNode replay = Faults.admin("flaky", "replay", Map.of("ids", List.of(id), "ratePerSecond", 10));
        assertEquals(1, replay.path("replayed").asInt());
        await().atMost(Duration.ofSeconds(30)).until(() -> ledger.calls(id) == 6);
        JsonNode again = Faults.awaitDeadLetter("flaky", id);
        assertEquals(1, again.path("replays").asInt());
        assertEquals(3, again.path("attempts").asInt());

        // fixed, replayed by key through the CLI: processed, gone from the dead-letter queue
        ledger.fix(id);
        String out = cli("replay", "flaky", "--key", "k-" + id, "--rate", "5");
        assertTrue(out.contains("\"replayed\":1"), out);
        await().atMost(Duration.ofSeconds(30)).until(() -> ledger.applied(id) == 1);
        assertEquals(0, Faults.deadLetters("flaky", Map.of("id", id)).path("matched").asInt());
    }

    @Test
    void theCliListsAndPurgesOnlyWithConfirmation() {
        String id = "cli-" + run;
        faults.send("fault.strict", id, "k-" + id, new Script(0, false, true, false, 0, false, 0));
        Faults.awaitDeadLetter("flaky", id);
        String listed = cli("list", "flaky", "--id", id, "--since", "2000-01-01T00:00:00Z");
        assertTrue(listed.contains("\"matched\":1") && listed.contains(id), listed);
        String later = cli("list", "flaky", "--id", id, "--since", "2999-01-01T00:00:00Z");
        assertTrue(later.contains("\"matched\":0"), later);
        String refused = cliFailing("purge", "flaky", "--id", id);
        assertTrue(refused.contains("--yes flaky"), refused);
        String purged = cli("purge", "flaky", "--id", id, "--yes", "flaky");
        assertTrue(purged.contains("\"purged\":1"), purged);
        assertEquals(0, Faults.deadLetters("flaky", Map.of("id", id)).path("matched").asInt());
    }

    @Test
    void adminEndpointsRefuseWithoutTheCredential() {
        String path = "/admin/functions/flaky/dead-letters";
        given().get(path).then().statusCode(401).header("WWW-Authenticate", "Bearer realm=\"eventline-admin\"");
        given().auth().oauth2("wrong-token-wrong-token").get(path).then().statusCode(401);
        given().contentType(ContentType.JSON).body(Map.of("all", true, "confirm", "flaky")).post(path + "/purge")
                .then().statusCode(401);
        given().auth().oauth2(FaultProfile.TOKEN).contentType(ContentType.JSON).body(Map.of("all", true))
                .post(path + "/purge").then().statusCode(400);
        given().auth().oauth2(FaultProfile.TOKEN).contentType(ContentType.JSON).body(Map.of())
                .post(path + "/replay").then().statusCode(400);
    }

    @Test
    void enablingAdminWithoutACredentialStopsStartUp() {
        IllegalStateException none = assertThrows(IllegalStateException.class,
                () -> AdminRoutes.requiredToken(admin(true, Optional.empty())));
        assertTrue(none.getMessage().contains("eventline.admin.token"), none.getMessage());
        assertThrows(IllegalStateException.class, () -> AdminRoutes.requiredToken(admin(true, Optional.of("short"))));
        assertTrue(AdminRoutes.requiredToken(admin(false, Optional.empty())).isEmpty());
        assertTrue(AdminRoutes.requiredToken(admin(true, Optional.of(FaultProfile.TOKEN))).isPresent());
    }

    private static EventlineConfig.Admin admin(boolean enabled, Optional<String> token) {
        return new EventlineConfig.Admin() {
            @Override
            public boolean enabled() {
                return enabled;
            }

            @Override
            public Optional<String> token() {
                return token;
            }

            @Override
            public int replayRate() {
                return 100;
            }

            @Override
            public int maxBatch() {
                return 1000;
            }
        };
    }

    private static List<String> ids(JsonNode page) {
        List<String> ids = new ArrayList<>();
        page.path("events").forEach(e -> ids.add(e.path("id").asText()));
        return ids;
    }

    private String cli(String... args) {
        Cli r = runCli(args);
        assertEquals(0, r.exit(), r.output());
        return r.output();
    }

    private String cliFailing(String... args) {
        Cli r = runCli(args);
        assertTrue(r.exit() != 0, r.output());
        return r.output();
    }

    private record Cli(int exit, String output) {
    }

    private Cli runCli(String... args) {
        List<String> command = new ArrayList<>(List.of("bin/eventline-admin"));
        command.addAll(List.of(args));
        try {
            ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(File.createTempFile("cli", ".out"));
            pb.environment().put("EVENTLINE_URL", base.toString().replaceAll("/$", ""));
            pb.environment().put("EVENTLINE_ADMIN_TOKEN", FaultProfile.TOKEN);
            Process p = pb.start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("the CLI did not finish: " + command);
            }
            String output = java.nio.file.Files.readString(pb.redirectOutput().file().toPath(), StandardCharsets.UTF_8);
            return new Cli(p.exitValue(), output);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

}
