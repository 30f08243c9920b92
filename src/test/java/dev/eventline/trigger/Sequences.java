package dev.eventline.trigger;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import jakarta.enterprise.context.ApplicationScoped;

import io.quarkus.funqy.Context;
import io.quarkus.funqy.Funq;
import io.quarkus.funqy.knative.events.CloudEvent;
import io.quarkus.funqy.knative.events.CloudEventMapping;

/**
 * The test function {@code resizable}: each key's events carry steps 1, 2, 3, …; a step that is not the
 * next one is an ordering violation, one already seen a duplicate.
 */
public class Sequences {

    /** The record of steps per key. */
    @ApplicationScoped
    public static class Ledger {
        private final Map<String, Long> last = new ConcurrentHashMap<>();
        private final AtomicLong applied = new AtomicLong();
        private final AtomicLong violations = new AtomicLong();

        synchronized void step(String key, long step) {
            long previous = last.getOrDefault(key, 0L);
            if (step <= previous) {
                return; // a redelivered duplicate
            }
            if (step != previous + 1) {
                violations.incrementAndGet();
            }
            last.put(key, step);
            applied.incrementAndGet();
        }

        public long applied() {
            return applied.get();
        }

        public long violations() {
            return violations.get();
        }

        public long last(String key) {
            return last.getOrDefault(key, 0L);
        }
    }

    /** The event's data. */
    public record Step(String key, long step) {
    }

    @jakarta.inject.Inject
    Ledger ledger;

    @Funq
    @CloudEventMapping(trigger = "seq.step")
    public void seqStep(Step data, @Context CloudEvent<?> event) {
        ledger.step(data.key(), data.step());
    }
}
