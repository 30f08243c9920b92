package dev.eventline.trigger;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.stream.IntStream;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.eventline.app.Lifecycle;
import dev.eventline.testsupport.BrokerResource;
import dev.eventline.testsupport.GateClient;
import dev.eventline.testsupport.TestBroker;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

/**
 * Key concurrency on a real broker: many keys in two partitions, eight calls at once in each, and still every
 * key's events applied once each, in order, never two calls of one key at once; also when the consumer
 * connection is killed mid-stream (calls in progress then, events settled and not yet acked).
 */
@QuarkusTest
@TestProfile(KeyedProfile.class)
@QuarkusTestResource(BrokerResource.class)
class KeyConcurrencyTest {

    @Inject
    KeyedFunctions.Ledger ledger;
    @Inject
    Lifecycle lifecycle;

    @TestHTTPResource("/events")
    URI gate;

    @Test
    void runsKeysAtOnceAndEachKeyInOrder() {
        // some 6 keys per partition, fewer than its calls: its window of 32 holds several events of each key,
        // which must wait behind one another while the other keys' calls run
        List<String> keys = keys("order", 12);
        int before = ledger.total();
        send(keys, 0, 50, 5);
        await().atMost(Duration.ofSeconds(120)).until(() -> ledger.total() - before >= keys.size() * 50);
        assertInOrder(keys, 50);
        // two partitions of eight calls: far more than one call per partition ran at once
        assertTrue(ledger.mostAtOnce() >= 4, "calls at once: " + ledger.mostAtOnce());
    }

    @Test
    void keepsEachKeyInOrderWhenTheConsumerConnectionIsKilled() {
        List<String> keys = keys("kill", 300);
        int before = ledger.total();
        // the first five steps are slow (100 ms a call: some 9 s for the two partitions), so calls are in
        // progress and settled events wait for their acks when the connection dies; the rest follow the kill
        send(keys, 0, 5, 100);
        await().atMost(Duration.ofSeconds(60)).until(() -> ledger.total() - before > 200);
        await().atMost(Duration.ofSeconds(30))
                .until(() -> TestBroker.get().closeConnections("eventline-trigger-keyed@" + lifecycle.instance()) == 1);
        assertTrue(ledger.total() - before < keys.size() * 5, "the connection died mid-stream");
        send(keys, 5, 10, 2);
        await().atMost(Duration.ofSeconds(120)).until(() -> ledger.total() - before >= keys.size() * 10);
        assertInOrder(keys, 10);
    }

    @Test
    void aKeysNextEventWaitsUntilATimedOutHandlerHasEnded() {
        // the first call overruns the 1 s timeout by 0.5 s of work that does not end on the interruption (and
        // leaves it set): its success stands (not retried), and the key's next event waits for it
        String key = sendSlowThenQuick("stubborn", 0, 1500);
        await().atMost(Duration.ofSeconds(60)).until(() -> ledger.applied(key).size() >= 2);
        assertEquals(List.of(0, 1), ledger.applied(key), "the late first call, then the next");
        assertEquals(1, ledger.calls(key, 0), "a late success is not called again");
        assertEquals(0, ledger.sameKeyAtOnce(), "calls of one key at once");
    }

    @Test
    void anOverrunThatObeysTheInterruptionIsAFailedAttemptAndTheKeyWaitsForItsRetries() {
        // the first event overruns the 1 s timeout on each of its 3 attempts and ends on the interruption: it
        // is dead-lettered after them; the key's next event waits until then
        String key = sendSlowThenQuick("overrun", 3000, 0);
        await().atMost(Duration.ofSeconds(60)).until(() -> ledger.applied(key).size() >= 1);
        assertEquals(List.of(1), ledger.applied(key), "the first dead-lettered, the next applied");
        assertEquals(3, ledger.calls(key, 0), "every attempt of the first before the next");
        assertEquals(0, ledger.sameKeyAtOnce(), "calls of one key at once");
    }

    @Test
    void aStuckCallHoldsItsKeyNotThePartitionWhenTheConnectionIsLost() {
        // a call that ignores its timeout for 8 s; meanwhile the consumer connection dies, and the partition's
        // new consumer runs the other keys at once, while the stuck key's next event waits for the old call
        String stuck = sendSlowThenQuick("stuck", 0, 8000);
        await().atMost(Duration.ofSeconds(30)).until(() -> ledger.running(stuck) == 1);
        await().atMost(Duration.ofSeconds(30))
                .until(() -> TestBroker.get().closeConnections("eventline-trigger-keyed@" + lifecycle.instance()) == 1);
        List<String> others = keys("beside", 20);
        int before = ledger.total();
        send(others, 0, 5, 5);
        await().atMost(Duration.ofSeconds(30)).until(() -> ledger.total() - before >= others.size() * 5);
        assertEquals(1, ledger.running(stuck), "the other keys were done while the stuck call still ran");
        assertInOrder(others, 5);
        await().atMost(Duration.ofSeconds(60)).until(() -> ledger.applied(stuck).size() >= 2);
        assertEquals(List.of(0, 1), ledger.applied(stuck), "the stuck call, then its key's next event");
    }

    /** Two events of a new key: the first slow (see {@link KeyedFunctions.Step}), the second quick; @return the key */
    private String sendSlowThenQuick(String prefix, long sleepMs, long stubbornMs) {
        String key = keys(prefix, 1).get(0);
        new GateClient(gate).deliver(List.of(
                GateClient.event(key + "-0", "keyed.step", key, new KeyedFunctions.Step(key, 0, sleepMs, stubbornMs)),
                GateClient.event(key + "-1", "keyed.step", key, new KeyedFunctions.Step(key, 1, 0, 0))), 10);
        return key;
    }

    private static List<String> keys(String prefix, int n) {
        String run = prefix + "-" + UUID.randomUUID() + "-";
        return IntStream.range(0, n).mapToObj(i -> run + i).toList();
    }

    /**
     * Steps {@code from} to {@code to} of every key, five steps of a key after one another in each batch (so a
     * partition's window holds several events of one key at once); each batch is accepted before the next is
     * sent, so order per key holds at the gate.
     */
    private void send(List<String> keys, int from, int to, long sleepMs) {
        GateClient client = new GateClient(gate);
        List<ObjectNode> batch = new ArrayList<>();
        for (int s = from; s < to; s += 5) {
            for (String key : keys) {
                for (int step = s; step < Math.min(to, s + 5); step++) {
                    batch.add(GateClient.event(key + "-" + step, "keyed.step", key,
                            new KeyedFunctions.Step(key, step, sleepMs, 0)));
                }
                if (batch.size() >= 100) {
                    client.deliver(batch, 10);
                    batch = new ArrayList<>();
                }
            }
            if (!batch.isEmpty()) {
                client.deliver(batch, 10);
                batch = new ArrayList<>();
            }
        }
    }

    private void assertInOrder(List<String> keys, int steps) {
        List<Integer> expected = IntStream.range(0, steps).boxed().toList();
        for (String key : keys) {
            assertEquals(expected, ledger.applied(key), "steps of " + key + ", applied once each, in order");
        }
        assertEquals(0, ledger.sameKeyAtOnce(), "calls of one key at once");
    }
}
