package dev.eventline.app;

import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

import jakarta.inject.Inject;

import dev.eventline.broker.Publishing;
import dev.eventline.trigger.Trigger;

/**
 * Readiness: UP once the broker was reached, the topology agrees with the descriptions, the gate's
 * publisher and the functions' consumer connections are open, and no owned partition has stopped draining
 * while it holds events. A lost connection shows here as DOWN until it is open again; a stalled partition
 * (listed in the data) until it drains again, which its instance forces by taking it anew.
 */
@Readiness
@ApplicationScoped
public class Status implements HealthCheck {

    @Inject
    Publishing publishing;

    /** The functions' consumers, once the broker was reached and they started; null before. */
    private volatile Trigger.Running consumers;
    private volatile List<String> differences = List.of();
    private volatile String lastError = "not connected yet";

    boolean connected() {
        return consumers != null;
    }

    void topology(List<String> differences) {
        this.differences = List.copyOf(differences);
    }

    void connected(Trigger.Running consumers) {
        this.consumers = consumers;
        this.lastError = null;
    }

    void failed(String error) {
        this.lastError = error;
    }

    @Override
    public HealthCheckResponse call() {
        boolean publisherUp = publishing.publisher().map(p -> p.isOpen()).orElse(true);
        boolean connected = connected();
        boolean consumersUp = !connected || consumers.isOpen();
        java.util.Map<String, String> stalled = connected ? consumers.stalled() : java.util.Map.of();
        HealthCheckResponseBuilder r = HealthCheckResponse.named("broker")
                .status(connected && publisherUp && consumersUp && stalled.isEmpty() && differences.isEmpty())
                .withData("connected", connected)
                .withData("publisher", publisherUp ? "open" : "down")
                .withData("consumers", consumersUp ? "open" : "down");
        if (lastError != null) {
            r.withData("error", lastError);
        }
        if (connected) {
            // which partitions this instance owns; none means ready and standing by for a take-over
            consumers.ownership().forEach((fn, owned) -> r.withData("partitions-" + fn, owned == 0
                    ? "owns none (standing by)" : "owns " + owned));
        }
        stalled.forEach((queue, seen) -> r.withData("stalled-" + queue, seen));
        for (int i = 0; i < differences.size(); i++) {
            r.withData("topology-difference-" + i, differences.get(i));
        }
        return r.build();
    }
}
