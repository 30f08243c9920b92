package dev.eventline.trigger;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

import dev.eventline.config.DescriptionException;
import dev.eventline.config.FunctionDescription;
import io.quarkus.funqy.knative.events.CloudEventMapping;
import io.quarkus.funqy.runtime.FunctionInvoker;
import io.quarkus.funqy.runtime.FunctionRecorder;

/**
 * Finds the {@code @Funq} method for each event type, by the same rule as Funqy's Knative binding: the method
 * whose {@code @CloudEventMapping(trigger = ...)} names the type, else the function whose name equals it. So
 * one method answers an event whether it arrives from a partition queue or over HTTP.
 */
final class FunctionInvokers {

    private final Map<String, FunctionInvoker> byType = new HashMap<>();

    FunctionInvokers() {
        if (FunctionRecorder.registry == null) {
            throw new IllegalStateException("Funqy has registered no functions (no @Funq method in the application)");
        }
        for (FunctionInvoker invoker : FunctionRecorder.registry.invokers()) {
            CloudEventMapping mapping = invoker.getMethod().getAnnotation(CloudEventMapping.class);
            String trigger = mapping != null && !mapping.trigger().isEmpty() ? mapping.trigger() : invoker.getName();
            byType.put(trigger, invoker);
        }
    }

    /** Fails start-up when a type the description owns has no function to run it. */
    void requireAll(FunctionDescription fn) {
        for (int i = 0; i < fn.eventTypes().size(); i++) {
            String type = fn.eventTypes().get(i);
            if (!byType.containsKey(type)) {
                throw new DescriptionException(fn.source(), "eventTypes[" + i + "]", "'" + type
                        + "' has no @Funq method: annotate one with @CloudEventMapping(trigger = \"" + type + "\")");
            }
        }
    }

    Optional<FunctionInvoker> forType(String type) {
        return Optional.ofNullable(byType.get(type));
    }
}
