package dev.eventline.faults;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import dev.eventline.fault.NonRetryableException;
import dev.eventline.testsupport.BrokerResource;
import dev.eventline.testsupport.GateClient;
import dev.eventline.topology.Names;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

/**
 * Retries and dead-lettering on a real broker: a handler that fails twice then succeeds is called three
 * times and not dead-lettered; an always-failing event is dead-lettered after exactly its attempt budget with
 * its history, while the keys behind it in its partition wait (strict) or flow past it (relaxed); events that
 * can never succeed are dead-lettered at once.
 */
@QuarkusTest
@QuarkusTestResource(BrokerResource.class)
@TestProfile(FaultProfile.class)
class RetryTest extends FaultTestBase {

    @Inject
    Names names;

    @Test
    void aHandlerThatFailsTwiceThenSucceedsIsCalledThreeTimesAndNotDeadLettered() {
        String id = "twice-" + run;
        faults.send("fault.strict", id, "k-" + id, Script.failing(2));
        await().atMost(Duration.ofSeconds(30)).until(() -> ledger.applied(id) == 1);
        assertEquals(3, ledger.calls(id));
        assertEquals(0, Faults.deadLetters("flaky", Map.of("id", id)).path("matched").asInt());
    }

    @Test
    void strictDeadLettersAfterExactlyTheBudgetWhileLaterKeysOfThePartitionWait() {
        String bad = "always-" + run;
        String next = "behind-" + run;
        faults.sendBoth("fault.strict", bad, Script.failing(99), next, Script.ok());

        JsonNode dead = Faults.awaitDeadLetter("flaky", bad);
        await().atMost(Duration.ofSeconds(30)).until(() -> ledger.applied(next) == 1);
        assertEquals(3, ledger.calls(bad), "maxAttempts of flaky is 3");
        assertEquals(3, dead.path("attempts").asInt());
        assertEquals("retries exhausted", dead.path("reason").asText());
        assertEquals(IllegalStateException.class.getName(), dead.path("errorClass").asText());
        assertEquals("planned failure 3 of " + bad, dead.path("errorMessage").asText());
        assertEquals(names.partition("flaky", 0), dead.path("originalQueue").asText());
        assertEquals("k-" + bad, dead.path("key").asText());
        assertEquals("fault.strict", dead.path("type").asText());
        Instant first = Instant.parse(dead.path("firstFailure").asText());
        Instant last = Instant.parse(dead.path("lastFailure").asText());
        assertTrue(!last.isBefore(first), first + " .. " + last);
        // strict: the later key of the same (only) partition ran after the failing event's last attempt
        assertTrue(ledger.indexOf("call " + next + " 1") > ledger.indexOf("call " + bad + " 3"), ledger.log().toString());
    }

    @Test
    void relaxedLetsLaterKeysOvertakeAFailingEventThatThenSucceeds() {
        String flaky = "relaxed-twice-" + run;
        String next = "relaxed-behind-" + run;
        faults.sendBoth("fault.relaxed", flaky, Script.failing(2), next, Script.ok());
        await().atMost(Duration.ofSeconds(30)).until(() -> ledger.applied(flaky) == 1);
        assertEquals(3, ledger.calls(flaky));
        assertEquals(1, ledger.applied(next));
        assertTrue(ledger.indexOf("applied " + next) < ledger.indexOf("call " + flaky + " 2"),
                "the later key ran while the failed event waited in its delay queue: " + ledger.log());
        assertEquals(0, Faults.deadLetters("relaxed", Map.of("id", flaky)).path("matched").asInt());
    }

    @Test
    void relaxedDeadLettersAfterExactlyTheBudgetAndOthersFlowMeanwhile() {
        String bad = "relaxed-always-" + run;
        String next = "relaxed-flowing-" + run;
        faults.sendBoth("fault.relaxed", bad, Script.failing(99), next, Script.ok());
        JsonNode dead = Faults.awaitDeadLetter("relaxed", bad);
        assertEquals(3, ledger.calls(bad));
        assertEquals(3, dead.path("attempts").asInt());
        assertEquals("retries exhausted", dead.path("reason").asText());
        assertEquals("planned failure 3 of " + bad, dead.path("errorMessage").asText());
        assertEquals(names.partition("relaxed", 0), dead.path("originalQueue").asText());
        assertTrue(ledger.indexOf("applied " + next) >= 0 && ledger.indexOf("applied " + next) < ledger.indexOf(
                "call " + bad + " 3"), ledger.log().toString());
    }

    @Test
    void declaredNonRetryableErrorsAreDeadLetteredAtOnce() {
        String refused = "refused-" + run;
        String hopeless = "hopeless-" + run;
        faults.send("fault.strict", refused, "k-" + refused,
                new Script(0, false, true, false, 0, false, 0));
        faults.send("fault.strict", hopeless, "k-" + hopeless,
                new Script(0, false, false, true, 0, false, 0));
        JsonNode a = Faults.awaitDeadLetter("flaky", refused);
        JsonNode b = Faults.awaitDeadLetter("flaky", hopeless);
        assertEquals(1, ledger.calls(refused));
        assertEquals(1, ledger.calls(hopeless));
        assertEquals(1, a.path("attempts").asInt());
        assertTrue(a.path("reason").asText().startsWith("non-retryable"), a.toString());
        assertEquals(Refused.class.getName(), a.path("errorClass").asText());
        assertEquals(NonRetryableException.class.getName(), b.path("errorClass").asText());
    }

    @Test
    void dataThatDoesNotFitTheHandlerIsDeadLetteredAtOnce() {
        String id = "misfit-" + run;
        new GateClient(events).deliver(java.util.List.of(GateClient.event(id, "fault.strict", "k-" + id,
                Map.of("failTimes", "many"))), 5);
        JsonNode dead = Faults.awaitDeadLetter("flaky", id);
        assertEquals(0, ledger.calls(id));
        assertTrue(dead.path("reason").asText().startsWith("rejected: data does not fit"), dead.toString());
    }
}
