package dev.eventline.client;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import io.quarkus.funqy.Context;
import io.quarkus.funqy.Funq;
import io.quarkus.funqy.knative.events.CloudEvent;
import io.quarkus.funqy.knative.events.CloudEventMapping;

/**
 * Handlers of {@code functions-client}: each applies an event by recording its {@code seq} under its
 * {@code key} (both in {@code data}), so tests assert on what the functions applied, and in which order.
 */
public class ClientFunctions {

    /** What was applied, per key in order; and a switch that holds a type's handler. */
    @ApplicationScoped
    public static class Applied {
        private final Map<String, List<Integer>> byKey = new ConcurrentHashMap<>();
        private final Map<String, CountDownLatch> holds = new ConcurrentHashMap<>();

        void apply(String type, Map<String, Object> data) throws InterruptedException {
            CountDownLatch hold = holds.get(type);
            if (hold != null) {
                hold.await(60, TimeUnit.SECONDS); // bounded: a test that forgets to release still ends
            }
            List<Integer> seqs = byKey.computeIfAbsent(String.valueOf(data.get("key")), k -> new ArrayList<>());
            synchronized (seqs) {
                seqs.add(((Number) data.get("seq")).intValue());
            }
        }

        /** @return the seqs applied for the key, in the order they were applied */
        public List<Integer> seqs(String key) {
            List<Integer> seqs = byKey.getOrDefault(key, List.of());
            synchronized (seqs) {
                return List.copyOf(seqs);
            }
        }

        /** Handlers of this type wait (at most 60 s) until {@link #release}. */
        public void hold(String type) {
            holds.put(type, new CountDownLatch(1));
        }

        public void release(String type) {
            CountDownLatch hold = holds.remove(type);
            if (hold != null) {
                hold.countDown();
            }
        }
    }

    @Inject
    Applied applied;

    @Funq
    @CloudEventMapping(trigger = "client.ordered")
    public void clientOrdered(Map<String, Object> data, @Context CloudEvent<?> event) throws InterruptedException {
        applied.apply(event.type(), data);
    }

    @Funq
    @CloudEventMapping(trigger = "client.throttled")
    public void clientThrottled(Map<String, Object> data, @Context CloudEvent<?> event) throws InterruptedException {
        applied.apply(event.type(), data);
    }

    @Funq
    @CloudEventMapping(trigger = "client.capped")
    public void clientCapped(Map<String, Object> data, @Context CloudEvent<?> event) throws InterruptedException {
        applied.apply(event.type(), data);
    }
}
