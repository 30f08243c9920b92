package dev.eventline.functions.bench;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;

import jakarta.inject.Inject;

import io.quarkus.funqy.Funq;
import io.quarkus.funqy.knative.events.CloudEventMapping;

/**
 * Handlers for the benchmark (docs/performance.md): {@code bench.noop} does nothing but record the step,
 * {@code bench.io} first waits 5 ms, as a call to another service would. Inert unless a function
 * description owns these types (the benchmark writes one).
 */
public class BenchFunctions {

    private static final long IO_NANOS = Duration.ofMillis(5).toNanos();

    @Inject
    BenchLedger ledger;
    @Inject
    BenchFaults faults;

    @Funq
    @CloudEventMapping(trigger = "bench.noop")
    public void benchNoop(BenchStep step) {
        faults.inject(step);
        ledger.apply(step);
    }

    @Funq
    @CloudEventMapping(trigger = "bench.io")
    public void benchIo(BenchStep step) {
        long until = System.nanoTime() + IO_NANOS;
        for (long left; (left = until - System.nanoTime()) > 0;) {
            LockSupport.parkNanos(left); // simulated I/O wait
        }
        faults.inject(step);
        ledger.apply(step);
    }

    /** {@code GET /benchReport}. */
    @Funq
    public BenchReport benchReport() {
        return ledger.report();
    }
}
