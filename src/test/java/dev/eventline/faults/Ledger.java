package dev.eventline.faults;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import jakarta.enterprise.context.ApplicationScoped;

import dev.eventline.fault.NonRetryableException;

/**
 * The test functions' shared record: calls per event id, effects applied per event id, and one log of
 * calls and effects in the order they happened; plus the switches tests use to hold or fix an event.
 */
@ApplicationScoped
public class Ledger {

    private final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> applied = new ConcurrentHashMap<>();
    private final Map<String, CountDownLatch> holds = new ConcurrentHashMap<>();
    private final Set<String> fixed = ConcurrentHashMap.newKeySet();
    private final List<String> log = new ArrayList<>();

    void run(String id, Script script) {
        int call = calls.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
        record("call " + id + " " + call);
        if (script.holdOnCall() == call) {
            hold(id, script.ignoreInterrupt());
        }
        if (call == 1 && script.stallMs() > 0) {
            stall(script.stallMs());
        }
        if (script.refuse()) {
            throw new Refused("refused " + id);
        }
        if (script.nonRetryable()) {
            throw new NonRetryableException("cannot ever succeed: " + id);
        }
        if (call <= script.failTimes()) {
            throw new IllegalStateException("planned failure " + call + " of " + id);
        }
        if (script.failUntilFixed() && !fixed.contains(id)) {
            throw new IllegalStateException("broken until fixed: " + id);
        }
        applied.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
        record("applied " + id);
    }

    private void hold(String id, boolean ignoreInterrupt) {
        CountDownLatch latch = holds.computeIfAbsent(id, k -> new CountDownLatch(1));
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (latch.getCount() > 0 && System.nanoTime() < deadline) {
            try {
                latch.await(100, java.util.concurrent.TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                if (!ignoreInterrupt) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while held: " + id);
                }
                record("ignored interrupt " + id);
            }
        }
    }

    private static void stall(long millis) {
        long deadline = System.nanoTime() + Duration.ofMillis(millis).toNanos();
        for (long left; (left = deadline - System.nanoTime()) > 0;) {
            LockSupport.parkNanos(left);
            if (Thread.currentThread().isInterrupted()) {
                throw new IllegalStateException("interrupted while stalling");
            }
        }
    }

    private synchronized void record(String line) {
        log.add(line);
    }

    public void release(String id) {
        holds.computeIfAbsent(id, k -> new CountDownLatch(1)).countDown();
    }

    public void fix(String id) {
        fixed.add(id);
    }

    public int calls(String id) {
        AtomicInteger n = calls.get(id);
        return n == null ? 0 : n.get();
    }

    public int applied(String id) {
        AtomicInteger n = applied.get(id);
        return n == null ? 0 : n.get();
    }

    /** @return position of the line in the log, or -1 */
    public synchronized int indexOf(String line) {
        return log.indexOf(line);
    }

    public synchronized List<String> log() {
        return List.copyOf(log);
    }
}
