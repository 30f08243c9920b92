package dev.eventline.trigger;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;


import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.Connection;

import dev.eventline.broker.Broker;
import dev.eventline.broker.ProgressReport;
import dev.eventline.broker.StatusExchange;
import dev.eventline.topology.Names;

/**
 * Which instances run each function right now, learnt from their progress reports on the status exchange
 * (every instance reports every interval): an instance counts while its reports are fresh and until it
 * says it is leaving. This is how instances agree on their fair share of partitions without being told
 * their number or identity and without a coordinator besides RabbitMQ.
 */
final class Membership {

    private final Map<String, Map<String, Long>> seen = new ConcurrentHashMap<>();
    private final long freshNanos;
    private Connection connection;

    Membership(Duration interval) {
        this.freshNanos = 3 * interval.toNanos() + Duration.ofSeconds(1).toNanos();
    }

    synchronized void start(Broker broker, Names names, ObjectMapper json, String process)
            throws IOException, TimeoutException {
        if (connection != null) {
            return; // recovered by the client, with its queue, binding and consumer
        }
        connection = broker.open("eventline-membership@" + process);
        StatusExchange.subscribe(connection, names.statusExchange(), json, this::heard);
    }

    void heard(ProgressReport r) {
        Map<String, Long> instances = seen.computeIfAbsent(r.function(), k -> new ConcurrentHashMap<>());
        if (r.leaving()) {
            instances.remove(r.instance());
        } else {
            instances.put(r.instance(), System.nanoTime());
        }
    }

    /** @return the instances running the function, sorted, always including {@code self} */
    List<String> members(String function, String self) {
        long now = System.nanoTime();
        Map<String, Long> instances = seen.getOrDefault(function, Map.of());
        instances.values().removeIf(t -> now - t > 10 * freshNanos); // long gone: forget
        TreeSet<String> members = new TreeSet<>();
        instances.forEach((instance, t) -> {
            if (now - t <= freshNanos) {
                members.add(instance);
            }
        });
        members.add(self);
        return new ArrayList<>(members);
    }

    synchronized void close() {
        if (connection != null) {
            connection.abort();
            connection = null;
        }
    }
}
