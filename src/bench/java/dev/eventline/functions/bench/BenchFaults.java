package dev.eventline.functions.bench;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;

import jakarta.enterprise.context.ApplicationScoped;

import dev.eventline.fault.NonRetryableException;

/**
 * The failures a benchmark step can ask for (the fault matrix's poison events and hanging handler): a poison
 * step fails for good; a hanging step blocks its first call in this process for its {@code hangMs},
 * ignoring interruption as a stuck client library would, and succeeds when called again.
 */
@ApplicationScoped
public class BenchFaults {

    private static final int REMEMBERED = 10_000;

    private final Set<String> hung = Collections.newSetFromMap(new LinkedHashMap<String, Boolean>() {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
            return size() > REMEMBERED;
        }
    });

    void inject(BenchStep step) {
        if (step.failUntilMs() > 0 && System.currentTimeMillis() < step.failUntilMs()) {
            throw new IllegalStateException("step " + step.step() + " of " + step.key() + " fails until "
                    + java.time.Instant.ofEpochMilli(step.failUntilMs()));
        }
        if ("poison".equals(step.fault())) {
            throw new NonRetryableException("poison step " + step.step() + " of " + step.key());
        }
        if ("hang".equals(step.fault()) && step.hangMs() > 0 && firstTime(step)) {
            long until = System.nanoTime() + step.hangMs() * 1_000_000L;
            boolean interrupted = false;
            for (long left; (left = until - System.nanoTime()) > 0;) {
                LockSupport.parkNanos(left); // not interruptible on purpose
                interrupted |= Thread.interrupted();
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private synchronized boolean firstTime(BenchStep step) {
        return hung.add(step.key() + "/" + step.step());
    }
}
