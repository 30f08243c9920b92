package dev.eventline.gate;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;

import dev.eventline.config.FunctionCatalog;
import dev.eventline.config.FunctionDescription;
import dev.eventline.metrics.FunctionLoad;
import dev.eventline.metrics.LoadView;
import io.smallrye.health.api.HealthGroup;

/**
 * {@code /q/health/group/backpressure}: each function's depth and lag against its limits, as the gate sees
 * them. DOWN while a function is over a hard limit. A separate group, not readiness: an overloaded function
 * is no reason to take the gate out of service (producers then get {@code 429}s that tell them when to
 * come back, rather than connection errors).
 */
@HealthGroup("backpressure")
@ApplicationScoped
public class LagHealth implements HealthCheck {

    @Inject
    FunctionLoad load;
    @Inject
    FunctionCatalog catalog;

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponseBuilder r = HealthCheckResponse.named("backpressure");
        boolean up = true;
        for (FunctionDescription fn : catalog.all()) {
            LoadView v = load.view(fn);
            FunctionDescription.Limits l = fn.limits();
            boolean over = v.depth() >= l.depthHard() || v.lagSeconds() >= l.lagHardSeconds();
            up &= !over;
            r.withData(fn.name(), String.format("%s: depth %d (soft %d, hard %d), lag %.1f s (soft %d, hard %d), "
                    + "draining %.1f/s", over ? "OVER HARD LIMIT" : v.depth() >= l.depthSoft()
                            || v.lagSeconds() >= l.lagSoftSeconds() ? "over soft limit" : "ok",
                    v.depth(), l.depthSoft(), l.depthHard(), v.lagSeconds(), l.lagSoftSeconds(), l.lagHardSeconds(),
                    v.drainPerSecond()));
        }
        return r.status(up).build();
    }
}
