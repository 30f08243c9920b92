package dev.eventline.faults;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import dev.eventline.broker.Broker;
import dev.eventline.config.FunctionCatalog;
import dev.eventline.testsupport.BrokerResource;
import dev.eventline.testsupport.CuttableNetwork;
import dev.eventline.testsupport.TestBroker;
import dev.eventline.trigger.Trigger;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

/**
 * Handler timeouts, and consumers that lose their connection or die mid-event: nothing is lost, attempts
 * made before the interruption count, and with dedup on an effect is applied once.
 */
@QuarkusTest
@QuarkusTestResource(BrokerResource.class)
@TestProfile(FaultProfile.class)
class TimeoutAndCrashTest extends FaultTestBase {

    @Inject
    dev.eventline.app.Lifecycle lifecycle;
    @Inject
    Trigger trigger;
    @Inject
    Broker broker;
    @Inject
    FunctionCatalog catalog;

    @Test
    void aTimedOutCallIsInterruptedAndCountsAsAFailedAttempt() {
        String id = "stalled-" + run;
        double timeouts = faults.meter("handler.timeouts", "slow");
        faults.send("fault.slow", id, "k-" + id, new Script(0, false, false, false, 0, false, 60_000));
        await().atMost(Duration.ofSeconds(30)).until(() -> ledger.applied(id) == 1);
        assertEquals(2, ledger.calls(id), "the first call timed out (1 s) and was interrupted; the second succeeded");
        assertEquals(timeouts + 1, faults.meter("handler.timeouts", "slow"));
    }

    @Test
    void aStuckCallCannotRunTwiceNorAckAndItsLateSuccessIsNotRepeated() {
        String id = "stuck-" + run;
        double late = faults.meter("handler.late.completions", "slow");
        double duplicates = faults.meter("duplicates.skipped", "slow");
        faults.send("fault.slow", id, "k-" + id, Script.ok().holding(1, true));
        // attempt 1 times out; attempts 2 and 3 find it still running and fail without calling the handler
        JsonNode dead = Faults.awaitDeadLetter("slow", id);
        assertEquals(3, dead.path("attempts").asInt());
        assertTrue(dead.path("errorClass").asText().endsWith("StillRunning"), dead.toString());
        assertEquals(1, ledger.calls(id));
        assertEquals(0, ledger.applied(id));
        // the partition moved on: a later event of another key is processed while the call is stuck
        String after = "after-stuck-" + run;
        faults.send("fault.slow", after, "k-" + after, Script.ok());
        await().atMost(Duration.ofSeconds(30)).until(() -> ledger.applied(after) == 1);

        ledger.release(id); // the stuck call ends, successfully, long after its timeout
        await().atMost(Duration.ofSeconds(30)).until(() -> faults.meter("handler.late.completions", "slow") == late + 1);
        assertEquals(1, ledger.applied(id));
        // replaying it finds the id processed: skipped, not applied twice
        assertEquals(1, Faults.admin("slow", "replay", Map.of("ids", List.of(id))).path("replayed").asInt());
        await().atMost(Duration.ofSeconds(30)).until(() -> faults.meter("duplicates.skipped", "slow") == duplicates + 1);
        assertEquals(1, ledger.applied(id));
        assertEquals(1, ledger.calls(id));
    }

    @Test
    void aConnectionLostMidEventLosesNothingAndDedupKeepsTheEffectSingle() {
        String id = "cut-" + run;
        double duplicates = faults.meter("duplicates.skipped", "flaky");
        faults.send("fault.strict", id, "k-" + id, Script.ok().holding(1, false));
        await().atMost(Duration.ofSeconds(30)).until(() -> ledger.calls(id) == 1);
        cutTriggerConnection("flaky");
        ledger.release(id); // the call completes; its ack cannot reach the broker
        // the broker redelivers after recovery; the id was processed, so it is skipped and acked
        await().atMost(Duration.ofSeconds(60)).until(() -> faults.meter("duplicates.skipped", "flaky") == duplicates + 1);
        assertEquals(1, ledger.applied(id));
        assertEquals(1, ledger.calls(id));
    }

    @Test
    void attemptsMadeBeforeALostConnectionCount() {
        String id = "recount-" + run;
        faults.send("fault.strict", id, "k-" + id, Script.failing(99).holding(2, false));
        await().atMost(Duration.ofSeconds(30)).until(() -> ledger.calls(id) == 2);
        cutTriggerConnection("flaky");
        ledger.release(id); // attempt 2 fails on a channel that is gone; the redelivery resumes at attempt 3
        JsonNode dead = Faults.awaitDeadLetter("flaky", id);
        assertEquals(3, dead.path("attempts").asInt());
        assertEquals(3, ledger.calls(id), ledger.log().toString());
    }

    @Test
    void attemptsMadeByACrashedInstanceCountThroughTheQueuesDeliveryCount() throws Exception {
        List<dev.eventline.config.FunctionDescription> crashy = List.of(catalog.byName("crashy").orElseThrow());
        CuttableNetwork network = new CuttableNetwork();
        Trigger.Running first = trigger.launch("crash-first-" + run, crashy, broker.through(network));
        Trigger.Running second = trigger.launch("crash-second-" + run, crashy);
        try {
            String id = "crash-" + run;
            faults.send("fault.crashy", id, "k-" + id, Script.failing(99).holding(1, false));
            await().atMost(Duration.ofSeconds(30)).until(() -> ledger.calls(id) == 1);
            network.cut(); // the first instance dies as far as the broker can tell: its connections drop
            await().atMost(Duration.ofSeconds(30)).until(() -> first.owned("crashy") == 0);
            ledger.release(id); // attempt 1 fails after the first instance died; the second takes the event over
            JsonNode dead = Faults.awaitDeadLetter("crashy", id);
            assertEquals(3, dead.path("attempts").asInt());
            assertEquals(3, ledger.calls(id), ledger.log().toString());
        } finally {
            first.stop(Duration.ZERO);
            second.stop(Duration.ofSeconds(10));
        }
    }

    /** Closes the function's consumer connection broker-side, as a network failure would. */
    private void cutTriggerConnection(String function) {
        // the management API lists a connection once its first statistics are out: ask until it is found
        await().atMost(Duration.ofSeconds(30)).until(() -> TestBroker.get()
                .closeConnections("eventline-trigger-" + function + "@" + lifecycle.instance()) == 1);
    }

    @Test
    void aProducersRepeatedEventIsAppliedOnce() {
        String id = "repeated-" + run;
        double duplicates = faults.meter("duplicates.skipped", "flaky");
        faults.send("fault.strict", id, "k-" + id, Script.ok());
        await().atMost(Duration.ofSeconds(30)).until(() -> ledger.applied(id) == 1);
        faults.send("fault.strict", id, "k-" + id, Script.ok());
        await().atMost(Duration.ofSeconds(30)).until(() -> faults.meter("duplicates.skipped", "flaky") == duplicates + 1);
        assertEquals(1, ledger.applied(id));
        assertEquals(1, ledger.calls(id));
    }
}
