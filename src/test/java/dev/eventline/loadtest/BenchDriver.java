package dev.eventline.loadtest;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.eventline.testsupport.GateClient;

/**
 * Producers for the benchmark: each thread owns its keys and sends batches in which every key appears once
 * with its next step, the next batch only after the gate accepted the previous one (so per-key order is the
 * sending order); a 429 waits Retry-After and a 503 backs off before the same batch is sent again
 * ({@link GateClient#waitBefore}). At a target rate the threads pace themselves; at rate 0 they send as fast as
 * the gate answers.
 */
final class BenchDriver {

    final LongAdder accepted = new LongAdder();
    final LongAdder throttled = new LongAdder();
    final LongAdder unavailable = new LongAdder();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<Future<?>> threads = new ArrayList<>();
    private final ExecutorService pool;

    /** From this time on (nanoTime) events carry their send time, for the latency histogram; 0: never. */
    private volatile long measureFromNanos;

    void measureFrom(long nanoTime) {
        measureFromNanos = nanoTime;
    }

    BenchDriver(URI events, String run, String type, int producers, int batch, double ratePerSecond) {
        this(events, run, type, producers, batch, batch, ratePerSecond);
    }

    /**
     * @param keysPerProducer entities each producer owns (at least {@code batch}); its batches take them in
     *                        turn, each once per batch, so an entity's next event waits for the 202 of the batch
     *                        that carried its previous one
     */
    BenchDriver(URI events, String run, String type, int producers, int batch, int keysPerProducer,
            double ratePerSecond) {
        pool = Executors.newFixedThreadPool(producers);
        for (int t = 0; t < producers; t++) {
            int thread = t;
            threads.add(pool.submit(() -> produce(events, run + "-" + thread, type, batch,
                    Math.max(batch, keysPerProducer), ratePerSecond / producers)));
        }
    }

    private Void produce(URI events, String keys, String type, int batch, int keyCount, double rate) {
        GateClient gate = new GateClient(events);
        long[] steps = new long[keyCount];
        int cursor = 0;
        long interval = rate > 0 ? (long) (1e9 * batch / rate) : 0;
        long next = System.nanoTime();
        while (running.get()) {
            List<ObjectNode> events1 = new ArrayList<>(batch);
            long measureFrom = measureFromNanos;
            long sentAt = measureFrom > 0 && System.nanoTime() >= measureFrom ? System.currentTimeMillis() : 0;
            for (int k = 0; k < batch; k++) {
                int index = cursor;
                cursor = (cursor + 1) % keyCount;
                long step = ++steps[index];
                String key = keys + "-k" + index;
                events1.add(GateClient.event(key + "-" + step, type, key,
                        Map.of("key", key, "step", step, "sentAtMs", sentAt)));
            }
            String body = "[" + String.join(",", events1.stream().map(Object::toString).toList()) + "]";
            // never abandoned while the bench runs; given up 100 sends after it stopped
            for (int attempt = 1; ; attempt++) {
                GateClient.Reply r = gate.post(GateClient.BATCH, body);
                if (r.status() == 202) {
                    accepted.add(batch);
                    break;
                }
                (r.status() == 429 ? throttled : unavailable).increment();
                if (!running.get() && attempt > 100) {
                    throw new IllegalStateException("a batch was never accepted: " + r);
                }
                GateClient.pause(GateClient.waitBefore(attempt, r));
            }
            if (interval > 0) {
                next += interval;
                long wait = next - System.nanoTime();
                if (wait > 0) {
                    LockSupport.parkNanos(wait); // the producer's pace
                } else {
                    next = System.nanoTime(); // behind: do not burst to catch up
                }
            }
        }
        return null;
    }

    /** Stops after the batches in flight are accepted. */
    void stop() throws Exception {
        running.set(false);
        for (Future<?> f : threads) {
            f.get();
        }
        pool.shutdown();
    }
}
