package dev.eventline.client;

import java.net.URI;
import java.util.UUID;

import jakarta.inject.Inject;

import org.junit.jupiter.api.AfterEach;

import io.quarkus.test.common.http.TestHTTPResource;

/**
 * What the client's tests against the real gate ({@link ClientProfile}) share: the functions' record of what
 * they applied, the gate's URL, a fixture with a run-unique key prefix, and a recording proxy when one is used.
 */
abstract class RealGateTest {

    @Inject
    ClientFunctions.Applied applied;

    @TestHTTPResource("/events")
    URI events;

    final ClientFixture f = new ClientFixture(UUID.randomUUID().toString().substring(0, 8));
    RecordingProxy proxy;

    /** A recording proxy in front of the gate (closed after the test). */
    RecordingProxy proxy(int port, int unanswered) throws Exception {
        proxy = new RecordingProxy(events, port, unanswered);
        return proxy;
    }

    @AfterEach
    void closeProxy() {
        if (proxy != null) {
            proxy.close();
        }
    }
}
