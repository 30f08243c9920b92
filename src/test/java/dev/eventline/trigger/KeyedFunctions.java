package dev.eventline.trigger;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import io.quarkus.funqy.Funq;
import io.quarkus.funqy.knative.events.CloudEventMapping;

/** The handler of the test function {@code keyed}: records, per key, the steps applied and the calls at once. */
public class KeyedFunctions {

    /**
     * One event's data: its key, its place in the key's sequence, and how long its call takes: {@code sleepMs}
     * as a wait that an interruption ends with an exception, then {@code stubbornMs} ignoring interruption (a
     * handler stuck in I/O that a timeout cannot end).
     */
    public record Step(String key, int seq, long sleepMs, long stubbornMs) {
    }

    @Inject
    Ledger ledger;

    @Funq
    @CloudEventMapping(trigger = "keyed.step")
    public void keyedStep(Step step) {
        ledger.call(step);
    }

    /** What the calls did: steps applied per key in call order, and how many calls ran at once. */
    @ApplicationScoped
    public static class Ledger {
        private final Map<String, List<Integer>> applied = new ConcurrentHashMap<>();
        private final Map<String, AtomicInteger> perKey = new ConcurrentHashMap<>();
        private final AtomicInteger inFlight = new AtomicInteger();
        private final AtomicInteger mostAtOnce = new AtomicInteger();
        private final AtomicInteger sameKeyAtOnce = new AtomicInteger();
        private final AtomicInteger total = new AtomicInteger();
        private final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();

        void call(Step step) {
            calls.computeIfAbsent(step.key() + " " + step.seq(), k -> new AtomicInteger()).incrementAndGet();
            AtomicInteger mine = perKey.computeIfAbsent(step.key(), k -> new AtomicInteger());
            if (mine.incrementAndGet() > 1) {
                sameKeyAtOnce.incrementAndGet();
            }
            mostAtOnce.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
            try {
                long awake = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(step.sleepMs());
                for (long left; (left = awake - System.nanoTime()) > 0;) {
                    LockSupport.parkNanos(left); // the handler's work
                    if (Thread.interrupted()) {
                        throw new IllegalStateException("interrupted: " + step.key() + " " + step.seq());
                    }
                }
                long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(step.stubbornMs());
                boolean interrupted = false;
                for (long left; (left = until - System.nanoTime()) > 0;) {
                    LockSupport.parkNanos(left); // blocking work that does not end on an interruption
                    interrupted |= Thread.interrupted();
                }
                if (interrupted) {
                    Thread.currentThread().interrupt(); // and leaves it set, as work that never looked at it does
                }
                List<Integer> steps = applied.computeIfAbsent(step.key(), k -> new ArrayList<>());
                synchronized (steps) {
                    steps.add(step.seq());
                }
                total.incrementAndGet();
            } finally {
                inFlight.decrementAndGet();
                mine.decrementAndGet();
            }
        }

        public List<Integer> applied(String key) {
            List<Integer> steps = applied.getOrDefault(key, List.of());
            synchronized (steps) {
                return List.copyOf(steps);
            }
        }

        public int calls(String key, int seq) {
            AtomicInteger n = calls.get(key + " " + seq);
            return n == null ? 0 : n.get();
        }

        /** @return calls of the key in progress */
        public int running(String key) {
            AtomicInteger n = perKey.get(key);
            return n == null ? 0 : n.get();
        }

        public int total() {
            return total.get();
        }

        public int mostAtOnce() {
            return mostAtOnce.get();
        }

        public int sameKeyAtOnce() {
            return sameKeyAtOnce.get();
        }
    }
}
