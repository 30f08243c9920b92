package dev.eventline.testsupport;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;

import dev.eventline.topology.Partitioning;

class TestBrokerTest {

    private TestBroker broker;
    private Connection connection;
    private Channel channel;
    private final String id = UUID.randomUUID().toString().substring(0, 8);
    private final String exchange = "tbt.x." + id;
    private final List<String> queues = List.of("tbt.q1." + id, "tbt.q2." + id);
    private final List<Connection> extraConnections = new ArrayList<>();

    @BeforeEach
    void open() throws Exception {
        broker = TestBroker.get();
        System.err.println("TestBrokerTest: " + broker.description());
        // not named tbt-...: it must survive closeConnections("tbt-")
        connection = broker.connectionFactory().newConnection("testbroker-test-" + id);
        channel = connection.createChannel();
    }

    @AfterEach
    void cleanUp() throws Exception {
        for (Connection c : extraConnections) {
            if (c.isOpen()) {
                c.abort();
            }
        }
        if (connection != null) {
            try (Channel cleanup = connection.createChannel()) {
                for (String queue : queues) {
                    cleanup.queueDelete(queue);
                }
                cleanup.exchangeDelete(exchange);
            } finally {
                connection.close();
            }
        }
    }

    @Test
    void eachKeyLandsInThePartitionItHashesTo() throws Exception {
        channel.exchangeDeclare(exchange, "direct", false, false, null);
        for (int i = 0; i < queues.size(); i++) {
            channel.queueDeclare(queues.get(i), true, false, false, Map.of("x-queue-type", "quorum"));
            channel.queueBind(queues.get(i), exchange, Partitioning.routingKey(i));
        }
        channel.confirmSelect();
        Map<String, Integer> expected = new java.util.HashMap<>();
        for (int i = 0; i < 100; i++) {
            String key = UUID.randomUUID().toString();
            expected.put(key, Partitioning.of(key, queues.size()));
            channel.basicPublish(exchange, Partitioning.routingKey(key, queues.size()), null, key.getBytes());
        }
        channel.waitForConfirmsOrDie(30_000);

        await().atMost(Duration.ofSeconds(30)).until(this::messagesInQueues, n -> n == 100);
        for (int i = 0; i < queues.size(); i++) { // 100 random keys: an empty queue has odds of 2^-99
            int seen = 0;
            for (com.rabbitmq.client.GetResponse r; (r = channel.basicGet(queues.get(i), true)) != null; seen++) {
                assertEquals(i, expected.get(new String(r.getBody())), "a key in the wrong partition");
            }
            assertTrue(seen > 0, queues.get(i) + " got no message");
        }
    }

    @Test
    void closeConnectionsClosesByClientProvidedName() throws Exception {
        ConnectionFactory factory = broker.connectionFactory();
        factory.setAutomaticRecoveryEnabled(false); // else the client reconnects right after the forced close
        Connection victim = factory.newConnection("tbt-" + UUID.randomUUID());
        extraConnections.add(victim);
        assertTrue(victim.isOpen());

        // the management API lists a connection once its first statistics are in: retry until it shows up
        int closed = await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(250))
                .until(() -> broker.closeConnections("tbt-"), n -> n > 0);

        assertEquals(1, closed);
        await().atMost(Duration.ofSeconds(15)).until(() -> !victim.isOpen());
        assertFalse(victim.getCloseReason().isInitiatedByApplication());
        assertTrue(connection.isOpen(), "a connection of another name was closed");
    }

    private int messagesInQueues() throws Exception {
        int total = 0;
        for (String queue : queues) {
            total += channel.queueDeclarePassive(queue).getMessageCount();
        }
        return total;
    }
}
