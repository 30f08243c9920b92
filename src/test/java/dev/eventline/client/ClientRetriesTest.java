package dev.eventline.client;

import static dev.eventline.client.ClientFixture.assertFlushed;
import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import dev.eventline.testsupport.BrokerResource;
import dev.eventline.testsupport.TestBroker;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

/**
 * The producer client against the real gate when events cannot be accepted yet: throttling (429), a broker
 * that refuses some events (503 with {@code failed}), paused intake and a blocked broker (503 without it),
 * a gate that does not answer in time, and one that cannot be reached. In each case everything ends delivered,
 * as the functions applied it, in per-key order; or, when the client is closed first, handed to the
 * rejection handler.
 */
@QuarkusTest
@QuarkusTestResource(BrokerResource.class)
@TestProfile(ClientProfile.class)
class ClientRetriesTest extends RealGateTest {

    private static final String ORDERED = "client.ordered";

    @AfterEach
    void cleanUp() {
        applied.release("client.throttled");
        applied.release("client.capped");
        intake(false);
    }

    private void awaitExchange(Predicate<RecordingProxy.Exchange> seen) {
        await().atMost(Duration.ofSeconds(60)).until(() -> proxy.exchanges().stream().anyMatch(seen));
    }

    /** Each answer that asked to wait was followed, on the one sender, by a request no earlier than that. */
    private static void assertRetryAfterHonoured(List<RecordingProxy.Exchange> xs, int status) {
        int checked = 0;
        for (int i = 0; i + 1 < xs.size(); i++) {
            RecordingProxy.Exchange x = xs.get(i);
            if (x.status == status && x.retryAfter != null) {
                long waitedMs = (xs.get(i + 1).arrivedNanos - x.answeredNanos) / 1_000_000;
                assertTrue(waitedMs >= Long.parseLong(x.retryAfter) * 1000, "after " + status + " with Retry-After "
                        + x.retryAfter + " the client sent again after " + waitedMs + " ms");
                checked++;
            }
        }
        assertTrue(checked > 0, "no " + status + " with Retry-After was followed by a request");
    }

    @Test
    void throttledRequestsAreResentAfterRetryAfterAndEveryKeyStaysInOrder() throws Exception {
        applied.hold("client.throttled");
        RecordingProxy gate = proxy(0, 0);
        List<String> keys;
        try (EventlineClient client = f.client(gate.uri(), ClientProfile.KEY).senders(1).batchSize(5).build()) {
            keys = f.sendInterleaved(client, "client.throttled", "thr", 8, 5);
            awaitExchange(x -> x.status == 429);
            applied.release("client.throttled");
            assertFlushed(client, Duration.ofSeconds(120));
            assertEquals(40, client.stats().delivered(), client.stats().toString());
            assertTrue(client.stats().throttled() > 0, client.stats().toString());
        }
        f.assertAppliedInOrder(applied, keys, 5);
        assertRetryAfterHonoured(gate.exchanges(), 429);
    }

    @Test
    void eventsTheBrokerRefusedAreResentOnceThereIsRoomAndStayInOrder() throws Exception {
        applied.hold("client.capped");
        RecordingProxy gate = proxy(0, 0);
        List<String> keys;
        try (EventlineClient client = f.client(gate.uri(), ClientProfile.KEY).senders(2).batchSize(4).build()) {
            keys = f.sendInterleaved(client, "client.capped", "cap", 4, 8);
            awaitExchange(x -> x.status == 503 && x.hasFailedList());
            applied.release("client.capped");
            assertFlushed(client, Duration.ofSeconds(120));
            assertEquals(32, client.stats().delivered(), client.stats().toString());
            assertEquals(0, client.stats().rejected(), client.stats().toString());
        }
        f.assertAppliedInOrder(applied, keys, 8);
        long partial = gate.exchanges().stream().filter(x -> x.status == 503 && x.hasFailedList()).count();
        System.out.printf("[client] broker refusals: %d answers 503 with 'failed', %d requests in all%n", partial,
                gate.exchanges().size());
    }

    @Test
    void pausedIntakeGets503AndEverythingIsDeliveredOnceResumed() throws Exception {
        intake(true);
        RecordingProxy gate = proxy(0, 0);
        List<String> keys;
        try (EventlineClient client = f.client(gate.uri(), ClientProfile.KEY).senders(1).batchSize(3).build()) {
            keys = f.sendInterleaved(client, ORDERED, "paused", 3, 3);
            awaitExchange(x -> x.status == 503 && !x.hasFailedList() && x.retryAfter != null);
            intake(false);
            assertFlushed(client, Duration.ofSeconds(60));
            assertEquals(9, client.stats().delivered(), client.stats().toString());
        }
        f.assertAppliedInOrder(applied, keys, 3);
        assertRetryAfterHonoured(gate.exchanges(), 503);
    }

    @Test
    void aBrokerThatBlocksPublishingGets503AndNothingIsLost() throws Exception {
        Assumptions.assumeTrue(TestBroker.get().isPrivate(),
                "raising a memory alarm needs a broker this test run started; " + TestBroker.get());
        List<String> keys;
        try (EventlineClient client = f.client(events, ClientProfile.KEY).senders(2).batchSize(3).build()) {
            try {
                TestBroker.get().memoryAlarm(true);
                keys = f.sendInterleaved(client, ORDERED, "alarm", 3, 3);
                await().atMost(Duration.ofSeconds(60)).until(() -> client.stats().unavailable() > 0);
            } finally {
                TestBroker.get().memoryAlarm(false);
            }
            assertFlushed(client, Duration.ofSeconds(120));
            assertEquals(9, client.stats().delivered(), client.stats().toString());
        }
        f.assertAppliedInOrder(applied, keys, 3);
    }

    @Test
    void aRequestTheGateDoesNotAnswerInTimeIsResent() throws Exception {
        RecordingProxy gate = proxy(0, 1);
        List<String> keys;
        long start;
        try (EventlineClient client = f.client(gate.uri(), ClientProfile.KEY).senders(1).batchSize(3)
                .linger(Duration.ofSeconds(10)).requestTimeout(Duration.ofSeconds(2)).build()) {
            start = System.nanoTime(); // the client's request timer starts later than this
            keys = f.sendInterleaved(client, ORDERED, "timeout", 3, 2);
            assertFlushed(client, Duration.ofSeconds(60));
            assertEquals(6, client.stats().delivered(), client.stats().toString());
        }
        List<RecordingProxy.Exchange> xs = gate.exchanges();
        assertEquals(-1, xs.get(0).status, "the first request was never answered nor forwarded");
        assertEquals(xs.get(0).ids, xs.get(1).ids, "the same batch, sent again");
        long waitedMs = (xs.get(1).arrivedNanos - start) / 1_000_000;
        assertTrue(waitedMs >= 2000, "sent again only after the request timeout (2 s): " + waitedMs + " ms");
        f.assertAppliedInOrder(applied, keys, 2);
    }

    @Test
    void eventsSentWhileNothingListensAreDeliveredOnceTheGateIsReachable() throws Exception {
        int port = freePort();
        List<String> keys;
        try (EventlineClient client = f.client(URI.create("http://127.0.0.1:" + port + "/events"), ClientProfile.KEY)
                .senders(2).batchSize(3).build()) {
            keys = f.sendInterleaved(client, ORDERED, "refused", 3, 2);
            await().atMost(Duration.ofSeconds(30)).until(() -> client.stats().unavailable() >= 2);
            assertEquals(6, client.outstanding(), "nothing delivered, nothing dropped");
            proxy(port, 0);
            assertFlushed(client, Duration.ofSeconds(60));
            assertEquals(6, client.stats().delivered(), client.stats().toString());
        }
        f.assertAppliedInOrder(applied, keys, 2);
    }

    @Test
    void closeHandsEventsThatCouldNotBeDeliveredToTheRejectionHandler() throws Exception {
        int port = freePort();
        EventlineClient client = f.client(URI.create("http://127.0.0.1:" + port + "/events"), ClientProfile.KEY)
                .closeTimeout(Duration.ofMillis(500)).build();
        f.sendInterleaved(client, ORDERED, "never", 2, 2);
        client.close();
        assertEquals(0, client.outstanding());
        assertEquals(List.of(f.id("never0", 0), f.id("never0", 1), f.id("never1", 0), f.id("never1", 1)),
                f.rejectedIds.stream().sorted().toList());
        assertTrue(f.reasons.stream().allMatch(r -> r.contains("closed before the gate confirmed")),
                f.reasons.toString());
        assertEquals(new EventlineClient.Stats(0, 0, client.stats().unavailable(), 4), client.stats());
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** Pauses or resumes the intake of {@code ordered}, and waits until this gate applies it. */
    private void intake(boolean paused) {
        given().header("Authorization", "Bearer " + ClientProfile.ADMIN).contentType("application/json")
                .body("{\"paused\":" + paused + "}").post("/admin/functions/ordered/intake").then().statusCode(200);
        await().atMost(Duration.ofSeconds(30)).until(() -> given()
                .header("Authorization", "Bearer " + ClientProfile.ADMIN).get("/admin/functions/ordered/partitions")
                .then().statusCode(200).extract().path("pausedHere").equals(paused));
    }
}
