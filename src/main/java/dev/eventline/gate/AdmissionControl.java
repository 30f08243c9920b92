package dev.eventline.gate;

import java.util.Map;

import dev.eventline.config.FunctionDescription;

/**
 * The gate asks this before publishing a request, and tells it what was accepted. The default admits
 * everything; {@code dev.eventline.gate.Backpressure} delays and refuses by depth and lag.
 */
public interface AdmissionControl {

    /**
     * May block (bounded) to delay the producer.
     *
     * @param producer          who sent the request
     * @param eventsPerFunction how many events of the request go to each function
     * @throws HttpError (429 or 503) to refuse the whole request, before anything is published
     */
    void admit(String producer, Map<FunctionDescription, Integer> eventsPerFunction);

    /** Events of an admitted request that the broker confirmed. */
    default void confirmed(Map<FunctionDescription, Integer> eventsPerFunction) {
    }

    /** Events of an admitted request that the broker did not confirm (they were counted when admitted). */
    default void released(Map<FunctionDescription, Integer> eventsPerFunction) {
    }
}
