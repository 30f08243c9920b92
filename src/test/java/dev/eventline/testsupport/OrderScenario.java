package dev.eventline.testsupport;

import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Orders with their full lifecycles ({@code created, item-added x1..maxItems, paid, shipped}), sent to the
 * gate by several producers at once. Each order belongs to one producer, which sends the order's events in
 * sequence, in batches that interleave the next events of many of its orders, and waits for each batch's
 * 202 before the next: acceptance order per order is its sequence, and thousands of keys run in parallel.
 */
public final class OrderScenario {

    private final Map<String, List<ObjectNode>> events = new LinkedHashMap<>();
    private final AtomicLong sent = new AtomicLong();

    public OrderScenario(String runId, int orders, int maxItems, long seed) {
        Random random = new Random(seed);
        for (int o = 0; o < orders; o++) {
            String orderId = runId + "-order-" + o;
            List<ObjectNode> lifecycle = new ArrayList<>();
            int version = 0;
            lifecycle.add(order(orderId, "order.created", ++version, null, null));
            int items = 1 + random.nextInt(maxItems);
            for (int i = 0; i < items; i++) {
                lifecycle.add(order(orderId, "order.item-added", ++version, "sku-" + random.nextInt(1000), null));
            }
            lifecycle.add(order(orderId, "order.paid", ++version, null, 100L + random.nextInt(10_000)));
            lifecycle.add(order(orderId, "order.shipped", ++version, null, null));
            events.put(orderId, lifecycle);
        }
    }

    private static ObjectNode order(String orderId, String type, int version, String sku, Long amount) {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("orderId", orderId);
        data.put("version", version);
        if (sku != null) {
            data.put("sku", sku);
        }
        if (amount != null) {
            data.put("amount", amount);
        }
        return GateClient.event(orderId + "-v" + version, type, orderId, data);
    }

    public int totalEvents() {
        return events.values().stream().mapToInt(List::size).sum();
    }

    /** @return each order's id and the version it must reach */
    public Map<String, Long> expectedVersions() {
        Map<String, Long> expected = new LinkedHashMap<>();
        events.forEach((id, lifecycle) -> expected.put(id, (long) lifecycle.size()));
        return expected;
    }

    /** Events the gate has accepted so far (for progress while {@link #send} runs). */
    public long accepted() {
        return sent.get();
    }

    /** Sends every event from another thread; the future completes when the gate has accepted all of them. */
    public java.util.concurrent.CompletableFuture<Void> sendInBackground(URI gate, int producers, int batchSize) {
        return java.util.concurrent.CompletableFuture.runAsync(() -> {
            try {
                send(gate, producers, batchSize);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    /**
     * Waits until the order function applied every event of this scenario, and checks that each order went
     * through its whole lifecycle in order.
     */
    public void awaitAppliedInOrder(dev.eventline.functions.orders.OrderLifecycle orders, java.time.Duration atMost) {
        Map<String, Long> expected = expectedVersions();
        org.awaitility.Awaitility.await().atMost(atMost).pollInterval(java.time.Duration.ofMillis(200))
                .until(() -> expected.entrySet().stream().allMatch(e -> orders.order(e.getKey()) != null
                        && orders.order(e.getKey()).version() == e.getValue()));
        for (var e : expected.entrySet()) {
            var order = orders.order(e.getKey());
            org.junit.jupiter.api.Assertions.assertEquals(0, order.violations(), "ordering violations for " + e.getKey());
            org.junit.jupiter.api.Assertions.assertEquals(dev.eventline.functions.orders.OrderLifecycle.Status.SHIPPED,
                    order.status(), e.getKey());
        }
    }

    /** Sends every event; returns when the gate has accepted all of them. */
    public void send(URI gate, int producers, int batchSize) throws Exception {
        send(gate, producers, batchSize, null);
    }

    /** The same, as the producer with this key (null for an open gate). */
    public void send(URI gate, int producers, int batchSize, String key) throws Exception {
        List<List<String>> shares = new ArrayList<>();
        for (int p = 0; p < producers; p++) {
            shares.add(new ArrayList<>());
        }
        int n = 0;
        for (String orderId : events.keySet()) {
            shares.get(n++ % producers).add(orderId);
        }
        ExecutorService pool = Executors.newFixedThreadPool(producers);
        try {
            List<Future<?>> running = new ArrayList<>();
            for (List<String> share : shares) {
                running.add(pool.submit(() -> {
                    produce(new GateClient(gate, key), share, batchSize);
                    return null;
                }));
            }
            for (Future<?> f : running) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private void produce(GateClient client, List<String> orders, int batchSize) {
        Map<String, Integer> next = new LinkedHashMap<>();
        orders.forEach(o -> next.put(o, 0));
        while (!next.isEmpty()) {
            List<ObjectNode> batch = new ArrayList<>();
            for (var it = next.entrySet().iterator(); it.hasNext() && batch.size() < batchSize;) {
                var entry = it.next();
                List<ObjectNode> lifecycle = events.get(entry.getKey());
                batch.add(lifecycle.get(entry.getValue()));
                entry.setValue(entry.getValue() + 1);
                if (entry.getValue() == lifecycle.size()) {
                    it.remove();
                }
            }
            client.deliver(batch, 20);
            sent.addAndGet(batch.size());
        }
    }
}
