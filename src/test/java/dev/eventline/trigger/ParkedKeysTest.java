package dev.eventline.trigger;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import java.util.stream.StreamSupport;

import jakarta.inject.Inject;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.rabbitmq.client.Connection;

import dev.eventline.app.Lifecycle;
import dev.eventline.broker.Broker;
import dev.eventline.config.FunctionCatalog;
import dev.eventline.topology.Names;
import dev.eventline.topology.Partitioning;
import dev.eventline.testsupport.BrokerResource;
import dev.eventline.testsupport.GateClient;
import dev.eventline.testsupport.TestBroker;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;

/**
 * Parked mode on a real broker: a failing key's later events leave the window for a queue of the key's own while
 * every other key flows, and come back in order, each once, when it is done; also across a crash of the consumer
 * connection and a hand-over to another instance. A key whose event is dead-lettered stays held (the function's
 * {@code afterDeadLetter: hold}) until a replay or a purge, for as long as it takes, with nothing of it in memory.
 */
@QuarkusTest
@TestProfile(ParkedProfile.class)
@QuarkusTestResource(BrokerResource.class)
class ParkedKeysTest {

    private static final String FN = "parked";
    private static final int PARTITIONS = 2;

    @Inject
    ParkedFunctions.Ledger ledger;
    @Inject
    Lifecycle lifecycle;
    @Inject
    Broker broker;
    @Inject
    Names names;
    @Inject
    Trigger trigger;
    @Inject
    FunctionCatalog catalog;

    @TestHTTPResource("/events")
    URI gate;
    @TestHTTPResource("/")
    URI base;

    private Connection connection;
    private final List<Trigger.Running> instances = new ArrayList<>();

    @BeforeEach
    void connect() throws Exception {
        connection = broker.open("parked-test");
    }

    @AfterEach
    void cleanUp() throws Exception {
        ledger.reset();
        instances.forEach(i -> i.stop(Duration.ofSeconds(10)));
        instances.clear();
        connection.abort();
    }

    @Test
    void aFailingKeysLaterEventsLeaveTheWindowWhileTheOtherKeysFlow() {
        String failing = keysIn("fail", 0, 1).get(0);
        List<String> others = new ArrayList<>(keysIn("beside", 0, 10)); // in the failing key's partition
        others.addAll(keysIn("elsewhere", 1, 4));
        ledger.fail(failing);
        // 200 events of the failing key: a window of 16 would be full of them twelve times over
        send(List.of(failing), 0, 200, 0);
        long begun = System.nanoTime();
        send(others, 0, 30, 0);
        await().atMost(Duration.ofSeconds(90)).until(() -> others.stream().allMatch(k -> ledger.applied(k).size() >= 30));
        double seconds = (System.nanoTime() - begun) / 1e9;
        System.out.printf("parked: %d events of %d other keys in %.1f s (%.0f/s) while one key failed%n",
                others.size() * 30, others.size(), seconds, others.size() * 30 / seconds);
        others.forEach(k -> assertEquals(steps(0, 30), ledger.applied(k), "order of " + k));
        assertEquals(List.of(), ledger.applied(failing), "the failing key applied nothing yet");
        await().atMost(Duration.ofSeconds(30)).until(() -> parked(failing) >= 200 - 16);
        // replicated like the partitions: a classic queue's one node down made the list impossible to declare, and
        // nobody could take the partition (the fault matrix's leader kill)
        int partition = Partitioning.of(failing, PARTITIONS);
        for (String queue : List.of(names.parkedEvents(FN, partition, failing), names.heldKeys(FN, partition),
                names.heldKeysView(FN, partition))) {
            assertEquals("quorum", TestBroker.get().queueType(queue), queue);
        }

        JsonNode held = heldEntry(failing);
        assertEquals("FAILING", held.path("state").asText(), held.toString());
        assertTrue(held.path("reason").asText().contains("failing on purpose"), held.toString());
        assertEquals(failing + "-0", held.path("head").asText(), held.toString());
        String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        assertTrue(metrics.lines().anyMatch(l -> l.startsWith("eventline_held_keys{function=\"parked\"") && !l.endsWith(" 0.0")),
                "the held-keys gauge counts it");

        ledger.heal(failing);
        await().atMost(Duration.ofSeconds(90)).until(() -> ledger.applied(failing).size() >= 200);
        assertEquals(steps(0, 200), ledger.applied(failing), "in order, each once");
        await().atMost(Duration.ofSeconds(30)).until(() -> heldKeys().noneMatch(failing) && parked(failing) < 0);
        assertEquals(0, ledger.sameKeyAtOnce(), "calls of one key at once");
    }

    @Test
    void aDeadLetteredKeyStaysHeldUntilItsEventIsReplayed() {
        String poisoned = keysIn("replay", 1, 1).get(0);
        List<String> others = keysIn("flows", 1, 6);
        ledger.poison(poisoned);
        send(List.of(poisoned), 0, 30, 0);
        send(others, 0, 20, 0);
        await().atMost(Duration.ofSeconds(60)).until(() -> others.stream().allMatch(k -> ledger.applied(k).size() >= 20));
        await().atMost(Duration.ofSeconds(30)).until(() -> parked(poisoned) == 29);
        JsonNode held = heldEntry(poisoned);
        assertEquals("HELD", held.path("state").asText(), held.toString());
        assertTrue(held.path("reason").asText().startsWith("dead-lettered: non-retryable"), held.toString());
        String cli = runCli("held", FN);
        assertTrue(cli.contains(poisoned) && cli.contains("\"state\":\"HELD\""), cli);
        assertEquals(List.of(), ledger.applied(poisoned), "held: nothing of the key ran");

        ledger.cure(poisoned); // fixed: the operator replays the dead letter
        given().auth().oauth2(ParkedProfile.TOKEN).contentType(ContentType.JSON).body(Map.of("key", poisoned))
                .post("/admin/functions/parked/dead-letters/replay").then().statusCode(200);
        await().atMost(Duration.ofSeconds(60)).until(() -> ledger.applied(poisoned).size() >= 30);
        assertEquals(steps(0, 30), ledger.applied(poisoned), "the replayed event first, then the parked ones in order");
        await().atMost(Duration.ofSeconds(30)).until(() -> heldKeys().noneMatch(poisoned) && parked(poisoned) < 0);
    }

    @Test
    void aHeldKeyKeepsNothingInMemoryAndAPurgeReleasesIt() {
        String poisoned = keysIn("purge", 1, 1).get(0);
        List<String> others = keysIn("meanwhile", 1, 4);
        ledger.poison(poisoned);
        // 2,000 events of 2 KiB: all of them wait on the broker, in the key's queue, none in the window
        String pad = "x".repeat(2048);
        send(List.of(poisoned), 0, 2000, 0, pad);
        send(others, 0, 20, 0);
        await().atMost(Duration.ofSeconds(120)).until(() -> parked(poisoned) == 1999);
        await().atMost(Duration.ofSeconds(60)).until(() -> others.stream().allMatch(k -> ledger.applied(k).size() >= 20));
        await().atMost(Duration.ofSeconds(30)).until(() -> depth(names.partition(FN, 1)) == 0);
        assertEquals(List.of(), ledger.applied(poisoned));

        // the operator gives up on the dead letter: its key's parked events go on without it
        given().auth().oauth2(ParkedProfile.TOKEN).contentType(ContentType.JSON)
                .body(Map.of("key", poisoned, "confirm", FN))
                .post("/admin/functions/parked/dead-letters/purge").then().statusCode(200);
        await().atMost(Duration.ofSeconds(120)).until(() -> ledger.applied(poisoned).size() >= 1999);
        assertEquals(steps(1, 2000), ledger.applied(poisoned), "the parked events in order, each once");
        await().atMost(Duration.ofSeconds(30)).until(() -> heldKeys().noneMatch(poisoned) && parked(poisoned) < 0);
    }

    @Test
    void parkedEventsSurviveTheConsumerConnectionsDeath() {
        String failing = keysIn("crash", 0, 1).get(0);
        ledger.fail(failing);
        send(List.of(failing), 0, 100, 0);
        await().atMost(Duration.ofSeconds(30)).until(() -> parked(failing) >= 50);
        await().atMost(Duration.ofSeconds(30))
                .until(() -> TestBroker.get().closeConnections("eventline-trigger-parked@" + lifecycle.instance()) == 1);
        // the partition's next consumer reads the held key from the partition's list: the key's head event comes
        // back unacked and runs first, later ones are parked behind those parked before the crash
        send(List.of(failing), 100, 150, 0);
        List<String> others = keysIn("after-crash", 0, 5);
        send(others, 0, 10, 0);
        await().atMost(Duration.ofSeconds(60)).until(() -> others.stream().allMatch(k -> ledger.applied(k).size() >= 10));
        await().atMost(Duration.ofSeconds(30)).until(() -> parked(failing) >= 120);
        assertEquals(List.of(), ledger.applied(failing));

        ledger.heal(failing);
        await().atMost(Duration.ofSeconds(90)).until(() -> ledger.applied(failing).size() >= 150);
        assertEquals(steps(0, 150), ledger.applied(failing), "in order, each once");
        await().atMost(Duration.ofSeconds(30)).until(() -> heldKeys().noneMatch(failing) && parked(failing) < 0);
    }

    @Test
    void aParkedEventRetryingWhenTheConnectionDiesIsDrainedFirstAfterwards() {
        // step 0 fails, 1..60 are parked; step 0 then succeeds and the drain calls 1..4, while step 5 (taken from
        // the parked queue) fails and retries: the consumer connection dies then. Step 5 goes back to the head of
        // its parked queue, not to the partition, and the next consumer drains the key from it
        String key = keysIn("redrain", 1, 1).get(0);
        ledger.failStep(key, 0);
        ledger.failStep(key, 5);
        send(List.of(key), 0, 61, 0);
        await().atMost(Duration.ofSeconds(30)).until(() -> parked(key) >= 60);
        ledger.healStep(key, 0);
        await().atMost(Duration.ofSeconds(30)).until(() -> ledger.applied(key).size() >= 5);
        assertEquals(steps(0, 5), ledger.applied(key));
        heldEntry(key);
        await().atMost(Duration.ofSeconds(30)).until(() -> "FAILING".equals(heldKeys().entry(key).path("state").asText())
                && heldKeys().entry(key).path("head").asText().equals(key + "-5"));
        await().atMost(Duration.ofSeconds(30))
                .until(() -> TestBroker.get().closeConnections("eventline-trigger-parked@" + lifecycle.instance()) == 1);
        send(List.of(key), 61, 70, 0);
        ledger.healStep(key, 5);
        await().atMost(Duration.ofSeconds(60)).until(() -> ledger.applied(key).size() >= 70);
        assertEquals(steps(0, 70), ledger.applied(key), "in order, each once");
        await().atMost(Duration.ofSeconds(30)).until(() -> heldKeys().noneMatch(key) && parked(key) < 0);
    }

    @Test
    void heldKeysMoveWithTheirPartitionsOnRebalance() throws Exception {
        String first = keysIn("moves", 0, 1).get(0);
        String second = keysIn("moves", 1, 1).get(0);
        ledger.fail(first);
        ledger.fail(second);
        send(List.of(first, second), 0, 60, 0);
        await().atMost(Duration.ofSeconds(30)).until(() -> parked(first) >= 30 && parked(second) >= 30);

        // a second instance joins: one of the two partitions, with its held key, is handed over to it
        Trigger.Running joined = trigger.launch("joined", List.of(catalog.byName(FN).orElseThrow()));
        instances.add(joined);
        await().atMost(Duration.ofSeconds(60)).until(() -> joined.owned(FN) == 1);
        send(List.of(first, second), 60, 90, 0);
        await().atMost(Duration.ofSeconds(30)).until(() -> parked(first) >= 70 && parked(second) >= 70);
        assertEquals(List.of(), ledger.applied(first));
        assertEquals(List.of(), ledger.applied(second));

        // it leaves again while the keys are still held: its partition comes back here
        instances.remove(joined);
        joined.stop(Duration.ofSeconds(10));
        send(List.of(first, second), 90, 100, 0);
        ledger.reset();
        await().atMost(Duration.ofSeconds(90))
                .until(() -> ledger.applied(first).size() >= 100 && ledger.applied(second).size() >= 100);
        assertEquals(steps(0, 100), ledger.applied(first), "in order, each once");
        assertEquals(steps(0, 100), ledger.applied(second), "in order, each once");
        assertEquals(0, ledger.sameKeyAtOnce(), "calls of one key at once");
    }

    // ------------------------------------------------------------------ helpers

    /** @return {@code n} new keys that the gate routes to partition {@code partition} */
    private static List<String> keysIn(String prefix, int partition, int n) {
        String run = prefix + "-" + UUID.randomUUID() + "-";
        return IntStream.iterate(0, i -> i + 1).mapToObj(i -> run + i)
                .filter(k -> Partitioning.of(k, PARTITIONS) == partition).limit(n).toList();
    }

    private static List<Integer> steps(int from, int to) {
        return IntStream.range(from, to).boxed().toList();
    }

    private void send(List<String> keys, int from, int to, long unused) {
        send(keys, from, to, unused, "");
    }

    /** Steps {@code from} to {@code to} of every key, in batches each accepted before the next is sent. */
    private void send(List<String> keys, int from, int to, long unused, String pad) {
        GateClient client = new GateClient(gate);
        List<ObjectNode> batch = new ArrayList<>();
        for (int step = from; step < to; step++) {
            for (String key : keys) {
                batch.add(GateClient.event(key + "-" + step, "parked.step", key, new ParkedFunctions.Step(key, step, pad)));
            }
            if (batch.size() >= 50) {
                client.deliver(batch, 20);
                batch = new ArrayList<>();
            }
        }
        if (!batch.isEmpty()) {
            client.deliver(batch, 20);
        }
    }

    /** @return events in the key's parked queue, or -1 when it has none */
    private long parked(String key) {
        return depth(names.parkedEvents(FN, Partitioning.of(key, PARTITIONS), key));
    }

    private long depth(String queue) {
        try {
            return Broker.passive(connection, queue).map(ok -> (long) ok.getMessageCount()).orElse(-1L);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The held keys, as the admin endpoint lists them. */
    private HeldKeys heldKeys() {
        try {
            String body = given().auth().oauth2(ParkedProfile.TOKEN).get("/admin/functions/parked/held-keys").then()
                    .statusCode(200).extract().asString();
            return new HeldKeys(new ObjectMapper().readTree(body));
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private record HeldKeys(JsonNode body) {
        boolean noneMatch(String key) {
            return StreamSupport.stream(body.path("held").spliterator(), false)
                    .noneMatch(k -> key.equals(k.path("key").asText()));
        }

        JsonNode entry(String key) {
            return StreamSupport.stream(body.path("held").spliterator(), false)
                    .filter(k -> key.equals(k.path("key").asText())).findFirst().orElse(null);
        }
    }

    /** @return the key's entry in the held keys, once it is there and says what it waits for */
    private JsonNode heldEntry(String key) {
        JsonNode[] seen = new JsonNode[1];
        await().atMost(Duration.ofSeconds(30)).until(() -> (seen[0] = heldKeys().entry(key)) != null
                && !seen[0].path("reason").asText().isEmpty());
        return seen[0];
    }

    private String runCli(String... args) {
        List<String> command = new ArrayList<>(List.of("bin/eventline-admin"));
        command.addAll(List.of(args));
        try {
            File out = File.createTempFile("cli", ".out");
            ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out);
            pb.environment().put("EVENTLINE_URL", base.toString().replaceAll("/$", ""));
            pb.environment().put("EVENTLINE_ADMIN_TOKEN", ParkedProfile.TOKEN);
            Process p = pb.start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("the CLI did not finish: " + command);
            }
            String output = java.nio.file.Files.readString(out.toPath(), StandardCharsets.UTF_8);
            assertEquals(0, p.exitValue(), output);
            return output;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
