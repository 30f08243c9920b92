package dev.eventline.gate;

import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

import jakarta.inject.Inject;

import org.junit.jupiter.api.BeforeEach;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;

import dev.eventline.config.EventlineConfig;
import dev.eventline.testsupport.TestBroker;
import dev.eventline.topology.Names;
import io.quarkus.test.common.http.TestHTTPResource;

/** What the tests of the {@link DoorProfile} share: the gate's address, its settings, and the partitions. */
abstract class DoorTestBase {

    static final ObjectMapper JSON = new ObjectMapper();

    @TestHTTPResource("/events")
    URI events;
    @Inject
    Names names;
    @Inject
    EventlineConfig config;

    final String run = UUID.randomUUID().toString().substring(0, 8);

    /** {@code tiny} filled to its cap (around the gate), {@code roomy} empty. */
    @BeforeEach
    void partitions() throws Exception {
        try (Connection c = connection()) {
            Channel ch = c.createChannel();
            TinyPartition.fill(ch, names, run);
            ch.queuePurge(names.partition("roomy", 0));
        }
    }

    long depth(String function) throws Exception {
        try (Connection c = connection()) {
            return c.createChannel().queueDeclarePassive(names.partition(function, 0)).getMessageCount();
        }
    }

    /** The ids of every event in the partition, consumed (a partition has a single active consumer: no basic.get). */
    Set<String> take(String function) throws Exception {
        Set<String> ids = ConcurrentHashMap.newKeySet();
        try (Connection c = connection()) {
            Channel ch = c.createChannel();
            long count = ch.queueDeclarePassive(names.partition(function, 0)).getMessageCount();
            ch.basicConsume(names.partition(function, 0), true, (tag, d) -> ids.add(JSON.readTree(
                    new String(d.getBody(), StandardCharsets.UTF_8)).path("id").asText()), tag -> {
                    });
            await().atMost(Duration.ofSeconds(30)).until(() -> ids.size() >= count);
        }
        return ids;
    }

    private Connection connection() throws Exception {
        return TestBroker.get().connectionFactory().newConnection("door-test-" + run);
    }
}
