package dev.eventline.broker;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;

import dev.eventline.testsupport.TestBroker;

/**
 * Confirm bookkeeping against a real broker: a publish the client cannot even encode (it counts a sequence
 * number, then throws before anything reaches the broker) must not shift later confirms onto other messages.
 * Queues of their own, published to through the default exchange: {@code full} holds one message and refuses
 * the rest (reject-publish), {@code roomy} takes everything.
 */
class ConfirmingPublisherTest {

    private final String run = "cpt-" + UUID.randomUUID().toString().substring(0, 8);
    private final String full = run + ".full";
    private final String roomy = run + ".roomy";
    private Connection admin;
    private Channel setup;
    private ConfirmingPublisher publisher;

    @BeforeEach
    void queues() throws Exception {
        admin = TestBroker.get().connectionFactory().newConnection(run + "-setup");
        setup = admin.createChannel();
        setup.queueDeclare(full, false, false, false, Map.of("x-max-length", 1, "x-overflow", "reject-publish"));
        setup.queueDeclare(roomy, false, false, false, Map.of());
        setup.basicPublish("", full, null, "filler".getBytes(StandardCharsets.UTF_8));
    }

    @AfterEach
    void cleanUp() throws Exception {
        if (publisher != null) {
            publisher.close();
        }
        setup.queueDelete(full);
        setup.queueDelete(roomy);
        admin.close();
    }

    /** One way each to make {@code basicPublish} throw after the client took a sequence number; body: the id. */
    private OutgoingMessage unpublishable(String kind, String id) {
        return switch (kind) {
            case "message-id" -> new OutgoingMessage("", roomy, properties("x".repeat(300), Map.of()), body(id));
            case "routing-key" -> new OutgoingMessage("", "é".repeat(128), properties(id, Map.of()), body(id));
            case "header" -> new OutgoingMessage("", roomy, properties(id, Map.of("bad", new Object())), body(id));
            default -> throw new IllegalArgumentException(kind);
        };
    }

    @ParameterizedTest
    @ValueSource(strings = { "message-id", "routing-key", "header" })
    void aPublishThatThrowsNeverShiftsConfirmsOntoOtherMessages(String kind) throws Exception {
        // one channel: every call after the failed publish needs the channel it broke, or its replacement
        publisher = open(1000);
        Map<String, Outcome> outcomes = new HashMap<>();
        outcomes.putAll(settle(List.of(message(roomy, run + "-before"), unpublishable(kind, run + "-bad"),
                message(roomy, run + "-after"))));
        assertEquals(PublishException.Kind.UNPUBLISHABLE, outcomes.get(run + "-bad").kind(), outcomes.toString());
        assertEquals(PublishException.Kind.UNAVAILABLE, outcomes.get(run + "-after").kind(),
                "what follows a publish that threw is not published: " + outcomes);
        for (int i = 0; i < 20; i++) {
            Map<String, Outcome> round = settle(List.of(message(full, run + "-f" + i), message(roomy, run + "-r" + i)));
            assertEquals(PublishException.Kind.REFUSED, round.get(run + "-f" + i).kind(),
                    "round " + i + ": the full queue's message is the refused one: " + round);
            assertEquals(null, round.get(run + "-r" + i).kind(), "round " + i + ": " + round);
            outcomes.putAll(round);
        }
        Set<String> stored = drain(roomy);
        stored.addAll(drain(full));
        for (Map.Entry<String, Outcome> o : outcomes.entrySet()) {
            if (o.getValue().kind() == null) {
                assertTrue(stored.contains(o.getKey()), o.getKey() + " was confirmed but is on no queue");
            } else if (o.getValue().kind() == PublishException.Kind.REFUSED) {
                assertTrue(!stored.contains(o.getKey()), o.getKey() + " was reported refused but is stored");
            }
        }
    }

    /** A publisher of one channel with room for this many unconfirmed publishes, each confirmed within 1 s. */
    private ConfirmingPublisher open(int maxUnconfirmed) throws Exception {
        return ConfirmingPublisher.open(new Broker(BrokerSettings.of(TestBroker.get().amqpUrl())), run, 1,
                maxUnconfirmed, Duration.ofSeconds(1));
    }

    @Test
    void refusesAtOnceWhileItsConnectionIsDownAndReopensItByItself() throws Exception {
        AtomicBoolean reachable = new AtomicBoolean(true);
        ConnectionFactory factory = TestBroker.get().connectionFactory();
        factory.setAutomaticRecoveryEnabled(false);
        PublisherConnection.Connector connector = () -> {
            if (!reachable.get()) {
                throw new IOException("the broker cannot be reached (test)");
            }
            return factory.newConnection(run + "-publisher");
        };
        publisher = new ConfirmingPublisher(new PublisherConnection(connector, Duration.ofMillis(200)), 2, 1000);
        assertEquals(null, settle(List.of(message(roomy, run + "-1"))).get(run + "-1").kind());

        reachable.set(false);
        AtomicInteger closed = new AtomicInteger();
        // the management API lists a connection a few seconds after it opened
        await().atMost(Duration.ofSeconds(30)).until(() -> closed.addAndGet(TestBroker.get()
                .closeConnections(run + "-publisher")) > 0);
        await().atMost(Duration.ofSeconds(10)).until(() -> !publisher.isOpen());
        long started = System.nanoTime();
        PublishException down = assertThrows(PublishException.class,
                () -> publisher.publish(List.of(message(roomy, run + "-2")), Duration.ofSeconds(5)));
        assertEquals(PublishException.Kind.UNAVAILABLE, down.kind());
        assertTrue(System.nanoTime() - started < TimeUnit.SECONDS.toNanos(1), "refused at once, not after a wait");

        reachable.set(true);
        await().atMost(Duration.ofSeconds(30)).until(publisher::isOpen);
        assertEquals(null, settle(List.of(message(roomy, run + "-3"))).get(run + "-3").kind());
        assertEquals(Set.of(run + "-1", run + "-3"), drain(roomy));
    }

    @Test
    void aRecoveringConnectionItIsGivenServesAgainOnFreshChannelsOnceTheClientRecoveredIt() throws Exception {
        ConnectionFactory factory = TestBroker.get().connectionFactory();
        factory.setNetworkRecoveryInterval(200);
        publisher = new ConfirmingPublisher(factory.newConnection(run + "-recovering"), 1, 1000);
        assertEquals(null, settle(List.of(message(roomy, run + "-1"))).get(run + "-1").kind());
        AtomicInteger closed = new AtomicInteger();
        await().atMost(Duration.ofSeconds(30)).until(() -> closed.addAndGet(TestBroker.get()
                .closeConnections(run + "-recovering")) > 0);
        // recovered, the client's channel would restart its numbering: the publisher must not reuse it
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            try {
                return settle(List.of(message(roomy, run + "-2"))).get(run + "-2").kind() == null;
            } catch (PublishException e) {
                return false; // still down
            }
        });
        Map<String, Outcome> after = settle(List.of(message(full, run + "-f"), message(roomy, run + "-3")));
        assertEquals(PublishException.Kind.REFUSED, after.get(run + "-f").kind(), after.toString());
        assertEquals(null, after.get(run + "-3").kind(), after.toString());
        assertTrue(drain(roomy).containsAll(Set.of(run + "-1", run + "-2", run + "-3")));
    }

    /**
     * A queue that stops confirming (suspended on the broker, as one stuck behind a lost leader) must not hold
     * the publisher's confirm capacity for ever: once its oldest publish is unconfirmed for longer than the
     * caller's confirm timeout, the channel is broken, its publishes fail as not known to be stored, and the
     * capacity serves other queues again on a fresh channel.
     */
    @Test
    void aChannelWhoseConfirmsStoppedIsReplacedAndItsCapacityComesBack() throws Exception {
        TestBroker.get().assumePrivate("suspends a queue's process");
        String stuck = run + ".stuck";
        setup.queueDeclare(stuck, true, false, false, Map.of("x-queue-type", "quorum"));
        // one channel, room for four unconfirmed publishes: the stuck ones take all of it
        publisher = open(4);
        TestBroker.get().suspendQueue(stuck, true);
        AtomicInteger attempts = new AtomicInteger();
        try {
            List<CompletableFuture<Void>> held = publisher.publish(
                    List.of(message(stuck, "s1"), message(stuck, "s2"), message(stuck, "s3"), message(stuck, "s4")),
                    Duration.ofMillis(500));
            // before the fix every later publish found no capacity (SATURATED) for as long as the queue was stuck
            Duration timeout = Duration.ofMillis(500);
            List<CompletableFuture<Void>> after = await().atMost(Duration.ofSeconds(30)).until(() -> {
                try {
                    return publisher.publish(List.of(message(roomy, run + "-" + attempts.incrementAndGet())), timeout);
                } catch (PublishException e) {
                    return null; // the stuck publishes are younger than the timeout yet
                }
            }, f -> f != null);
            after.get(0).get(10, TimeUnit.SECONDS);
            for (CompletableFuture<Void> f : held) {
                ExecutionException failed = assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
                PublishException cause = (PublishException) failed.getCause();
                assertEquals(PublishException.Kind.UNAVAILABLE, cause.kind());
                assertTrue(cause.getMessage().contains("unconfirmed past its confirm timeout"), cause.getMessage());
            }
        } finally {
            TestBroker.get().suspendQueue(stuck, false);
            setup.queueDelete(stuck);
        }
        // the attempts refused before it published nothing
        assertEquals(Set.of(run + "-" + attempts.get()), drain(roomy));
    }

    /**
     * A publish is judged by its own caller's confirm timeout: later calls with a shorter one (the gate and the
     * dead-letter sink share a publisher and may be configured apart) do not break the channel under it.
     */
    @Test
    void aPublishIsJudgedByItsOwnConfirmTimeoutNotByALaterCallers() throws Exception {
        TestBroker.get().assumePrivate("suspends a queue's process");
        String stuck = run + ".slow";
        setup.queueDeclare(stuck, true, false, false, Map.of("x-queue-type", "quorum"));
        publisher = open(100);
        TestBroker.get().suspendQueue(stuck, true);
        List<CompletableFuture<Void>> held;
        List<CompletableFuture<Void>> quick = new java.util.concurrent.CopyOnWriteArrayList<>();
        try {
            held = publisher.publish(List.of(message(stuck, "w1"), message(stuck, "w2")), Duration.ofSeconds(60));
            // the broker's channel waits on the suspended queue, so the quick calls' confirms wait too; well past
            // their 200 ms, each call checks the channel, and the head of its line is a publish with 60 s to go
            await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(10)).until(() -> {
                quick.add(publisher.publish(List.of(message(roomy, run + "-q" + quick.size())), Duration.ofMillis(200))
                        .get(0));
                return held.stream().noneMatch(CompletableFuture::isDone);
            });
        } finally {
            TestBroker.get().suspendQueue(stuck, false);
        }
        for (CompletableFuture<Void> f : held) {
            f.get(30, TimeUnit.SECONDS); // confirmed once the queue works again
        }
        for (CompletableFuture<Void> f : quick) {
            f.get(30, TimeUnit.SECONDS);
        }
        assertEquals(Set.of("w1", "w2"), drain(stuck));
        setup.queueDelete(stuck);
        assertEquals(quick.size(), drain(roomy).size());
    }

    /**
     * A nack retires the channel it came on (RabbitMQ 3.10 kept refusing every publish on a channel whose first
     * publish to a quorum queue found the leader it had on record down, though the queue was empty under a new
     * leader): it takes no new call, the rest of its own call still goes out, and it closes once its owner gave
     * it up.
     */
    @Test
    void aNackRetiresItsChannelWhichClosesOnceGivenUpAndSettled() throws Exception {
        ConnectionFactory factory = TestBroker.get().connectionFactory();
        factory.setAutomaticRecoveryEnabled(false);
        try (Connection direct = factory.newConnection(run + "-direct")) {
            ConfirmChannel channel = ConfirmChannel.open(direct);
            List<CompletableFuture<Void>> confirms = channel.publish(
                    List.of(message(full, run + "-f"), message(roomy, run + "-r")), Duration.ofSeconds(5));
            ExecutionException refused = assertThrows(ExecutionException.class,
                    () -> confirms.get(0).get(10, TimeUnit.SECONDS));
            assertEquals(PublishException.Kind.REFUSED, ((PublishException) refused.getCause()).kind());
            confirms.get(1).get(10, TimeUnit.SECONDS);
            assertTrue(!channel.usable(), "a channel that got a nack takes no new call");
            assertTrue(!channel.done(), "it stays open until its owner gives it up");
            channel.closeWhenSettled();
            await().atMost(Duration.ofSeconds(30)).until(channel::done);
            await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
                    .until(() -> TestBroker.get().channelNumbers(run + "-direct"), Set::isEmpty);
        }
        assertEquals(Set.of(run + "-r"), drain(roomy));
    }

    /**
     * The pool replaces a retired channel while a publish is still pending on it: the next call goes out on a
     * fresh channel at once, the pending publish is confirmed (not failed) when the broker gets to it, and then
     * the old channel closes.
     */
    @Test
    void aRetiredChannelStillAwaitingConfirmsDrainsThenCloses() throws Exception {
        TestBroker.get().assumePrivate("suspends a queue's process");
        String slow = run + ".drain";
        setup.queueDeclare(slow, true, false, false, Map.of("x-queue-type", "quorum"));
        publisher = open(100);
        // registers this channel with the queue first, so that later publishes to it are asynchronous
        assertEquals(null, settle(List.of(message(slow, "d0"))).get("d0").kind());
        TestBroker.get().suspendQueue(slow, true);
        CompletableFuture<Void> waiting;
        try {
            List<CompletableFuture<Void>> call = publisher.publish(
                    List.of(message(slow, "d1"), message(full, run + "-f")), Duration.ofSeconds(60));
            waiting = call.get(0);
            ExecutionException refused = assertThrows(ExecutionException.class,
                    () -> call.get(1).get(10, TimeUnit.SECONDS));
            assertEquals(PublishException.Kind.REFUSED, ((PublishException) refused.getCause()).kind());
            assertEquals(null, settle(List.of(message(roomy, run + "-r"))).get(run + "-r").kind(),
                    "the next call goes out on a fresh channel while the old one awaits d1");
            assertTrue(!waiting.isDone(), "d1 still awaits the suspended queue");
            await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
                    .until(() -> TestBroker.get().channelNumbers(run), numbers -> numbers.size() == 2);
        } finally {
            TestBroker.get().suspendQueue(slow, false);
        }
        waiting.get(30, TimeUnit.SECONDS); // confirmed, not failed
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
                .until(() -> TestBroker.get().channelNumbers(run), numbers -> numbers.size() == 1);
        assertEquals(Set.of("d0", "d1"), drain(slow));
        setup.queueDelete(slow);
        assertEquals(Set.of(run + "-r"), drain(roomy));
    }

    /** What became of one message: null kind when confirmed. */
    record Outcome(PublishException.Kind kind) {
        boolean failed() {
            return kind != null;
        }
    }

    private Map<String, Outcome> settle(List<OutgoingMessage> messages) throws Exception {
        List<CompletableFuture<Void>> futures = publisher.publish(messages, Duration.ofSeconds(5));
        Map<String, Outcome> outcomes = new HashMap<>();
        for (int i = 0; i < messages.size(); i++) {
            String id = new String(messages.get(i).body(), StandardCharsets.UTF_8);
            try {
                futures.get(i).get(10, TimeUnit.SECONDS);
                outcomes.put(id, new Outcome(null));
            } catch (ExecutionException e) {
                outcomes.put(id, new Outcome(((PublishException) e.getCause()).kind()));
            }
        }
        return outcomes;
    }

    private Set<String> drain(String queue) throws Exception {
        Set<String> ids = new HashSet<>();
        for (GetResponse r; (r = setup.basicGet(queue, true)) != null;) {
            ids.add(new String(r.getBody(), StandardCharsets.UTF_8));
        }
        return ids;
    }

    private static OutgoingMessage message(String queue, String id) {
        return new OutgoingMessage("", queue, properties(id, Map.of()), body(id));
    }

    private static AMQP.BasicProperties properties(String id, Map<String, Object> headers) {
        return new AMQP.BasicProperties.Builder().messageId(id).headers(new HashMap<>(headers)).deliveryMode(1).build();
    }

    private static byte[] body(String id) {
        return id.getBytes(StandardCharsets.UTF_8);
    }
}
