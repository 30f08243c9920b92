package dev.eventline.trigger;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import io.quarkus.funqy.Funq;
import io.quarkus.funqy.knative.events.CloudEventMapping;

/** The handler of the test function {@code parked}: fails keys on demand and records what it applied, per key. */
public class ParkedFunctions {

    /** Not worth retrying (the function's {@code nonRetryable}): dead-lettered at once. */
    public static class Poison extends RuntimeException {
        public Poison(String message) {
            super(message);
        }
    }

    /** One event: its key, its place in the key's sequence, and padding (its size). */
    public record Step(String key, int seq, String pad) {
    }

    @Inject
    Ledger ledger;

    @Funq
    @CloudEventMapping(trigger = "parked.step")
    public void parkedStep(Step step) {
        ledger.call(step);
    }

    /** What the calls did, and which keys fail. */
    @ApplicationScoped
    public static class Ledger {
        /** Keys whose every call fails (retried). */
        private final Set<String> failing = ConcurrentHashMap.newKeySet();
        /** Steps ("key/seq") whose calls fail (retried). */
        private final Set<String> failingSteps = ConcurrentHashMap.newKeySet();
        /** Keys whose step 0 is poison (dead-lettered at once) until cured. */
        private final Set<String> poisoned = ConcurrentHashMap.newKeySet();
        private final Map<String, List<Integer>> applied = new ConcurrentHashMap<>();
        private final Map<String, AtomicInteger> running = new ConcurrentHashMap<>();
        private final AtomicInteger sameKeyAtOnce = new AtomicInteger();
        private final AtomicInteger total = new AtomicInteger();
        private final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();

        void call(Step step) {
            calls.computeIfAbsent(step.key(), k -> new AtomicInteger()).incrementAndGet();
            AtomicInteger mine = running.computeIfAbsent(step.key(), k -> new AtomicInteger());
            if (mine.incrementAndGet() > 1) {
                sameKeyAtOnce.incrementAndGet();
            }
            try {
                if (failing.contains(step.key()) || failingSteps.contains(step.key() + "/" + step.seq())) {
                    throw new IllegalStateException("failing on purpose: " + step.key() + " " + step.seq());
                }
                if (step.seq() == 0 && poisoned.contains(step.key())) {
                    throw new Poison("poison: " + step.key());
                }
                List<Integer> steps = applied.computeIfAbsent(step.key(), k -> new ArrayList<>());
                synchronized (steps) {
                    steps.add(step.seq());
                }
                total.incrementAndGet();
            } finally {
                mine.decrementAndGet();
            }
        }

        /** From now on every call of the key fails, until {@link #heal}. (Methods: the test sees a client proxy.) */
        public void fail(String key) {
            failing.add(key);
        }

        public void heal(String key) {
            failing.remove(key);
        }

        /** From now on every call of this one step fails, until {@link #healStep}. */
        public void failStep(String key, int seq) {
            failingSteps.add(key + "/" + seq);
        }

        public void healStep(String key, int seq) {
            failingSteps.remove(key + "/" + seq);
        }

        /** The key's step 0 is poison until {@link #cure}. */
        public void poison(String key) {
            poisoned.add(key);
        }

        public void cure(String key) {
            poisoned.remove(key);
        }

        public void reset() {
            failing.clear();
            failingSteps.clear();
            poisoned.clear();
        }

        public List<Integer> applied(String key) {
            List<Integer> steps = applied.getOrDefault(key, List.of());
            synchronized (steps) {
                return List.copyOf(steps);
            }
        }

        /** @return calls of the key, failed ones included */
        public int calls(String key) {
            AtomicInteger n = calls.get(key);
            return n == null ? 0 : n.get();
        }

        public int total() {
            return total.get();
        }

        public int sameKeyAtOnce() {
            return sameKeyAtOnce.get();
        }
    }
}
