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
    void consistentHashExchangeSpreadsOverQuorumQueues() throws Exception {
        channel.exchangeDeclare(exchange, TestBroker.CONSISTENT_HASH, false, false, null);
        for (String queue : queues) {
            channel.queueDeclare(queue, true, false, false, Map.of("x-queue-type", "quorum"));
            channel.queueBind(queue, exchange, "1");
        }
        channel.confirmSelect();
        for (int i = 0; i < 100; i++) {
            channel.basicPublish(exchange, UUID.randomUUID().toString(), null, ("m" + i).getBytes());
        }
        channel.waitForConfirmsOrDie(30_000);

        await().atMost(Duration.ofSeconds(30)).until(this::messagesInQueues, n -> n == 100);
        for (String queue : queues) { // equal weights, 100 random keys: an empty queue has odds of 2^-99
            assertTrue(channel.queueDeclarePassive(queue).getMessageCount() > 0, queue + " got no message");
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
