package dev.eventline.faults;

import java.net.URI;
import java.util.UUID;

import jakarta.inject.Inject;

import org.junit.jupiter.api.BeforeEach;

import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.common.http.TestHTTPResource;

/** What every failure test has: the ledger of the test functions, the gate, meters, and a run id for unique ids. */
abstract class FaultTestBase {

    @Inject
    Ledger ledger;
    @Inject
    MeterRegistry registry;

    @TestHTTPResource("/events")
    URI events;

    Faults faults;
    final String run = UUID.randomUUID().toString().substring(0, 8);

    @BeforeEach
    void setUpFaults() {
        faults = new Faults(events, registry);
    }
}
