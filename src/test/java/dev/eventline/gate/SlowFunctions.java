package dev.eventline.gate;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.LockSupport;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import io.quarkus.funqy.Context;
import io.quarkus.funqy.Funq;
import io.quarkus.funqy.knative.events.CloudEvent;
import io.quarkus.funqy.knative.events.CloudEventMapping;

/** The deliberately slow handler of {@code functions-backpressure/sluggish}: 20 ms of work per event. */
public class SlowFunctions {

    /** Ids of the events processed. */
    @ApplicationScoped
    public static class Processed {
        private final Set<String> ids = ConcurrentHashMap.newKeySet();

        public void add(String id) {
            ids.add(id);
        }

        public boolean contains(String id) {
            return ids.contains(id);
        }

        public int size() {
            return ids.size();
        }
    }

    @Inject
    Processed processed;

    @Funq
    @CloudEventMapping(trigger = "load.slow")
    public void loadSlow(java.util.Map<String, Object> data, @Context CloudEvent<?> event) {
        LockSupport.parkNanos(Duration.ofMillis(20).toNanos()); // simulated I/O, not synchronisation
        processed.add(event.id()); // through a method: fields of a client proxy are not the bean's
    }
}
