package dev.eventline.app;

import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

import dev.eventline.broker.Publishing;
import jakarta.inject.Inject;

/**
 * Readiness: UP once the broker was reached, the topology agrees with the descriptions and the gate's
 * publisher connection is open. The broker's own recovery keeps connections alive afterwards; a connection that
 * is down shows here as DOWN until it recovers.
 */
@Readiness
@ApplicationScoped
public class Status implements HealthCheck {

    @Inject
    Publishing publishing;

    private volatile boolean connected;
    private volatile List<String> differences = List.of();
    private volatile String lastError = "not connected yet";

    boolean connected() {
        return connected;
    }

    void connected(List<String> differences) {
        this.differences = List.copyOf(differences);
        this.connected = true;
        this.lastError = null;
    }

    void failed(String error) {
        this.lastError = error;
    }

    @Override
    public HealthCheckResponse call() {
        boolean publisherUp = publishing.publisher().map(p -> p.isOpen()).orElse(true);
        HealthCheckResponseBuilder r = HealthCheckResponse.named("broker")
                .status(connected && publisherUp && differences.isEmpty())
                .withData("connected", connected)
                .withData("publisher", publisherUp ? "open" : "down");
        if (lastError != null) {
            r.withData("error", lastError);
        }
        for (int i = 0; i < differences.size(); i++) {
            r.withData("topology-difference-" + i, differences.get(i));
        }
        return r.build();
    }
}
