package dev.eventline.gate;

import java.util.Map;

import dev.eventline.config.FunctionDescription;

/**
 * The gate asks this before publishing a request. The default admits everything; depth- and lag-based
 * delaying and rejecting plug in here (a bean of this type replaces the default).
 */
public interface AdmissionControl {

    /**
     * May block (bounded) to delay the producer.
     *
     * @param eventsPerFunction how many events of the request go to each function
     * @throws GateError (429 or 503) to refuse the whole request, before anything is published
     */
    void admit(Map<FunctionDescription, Integer> eventsPerFunction);
}
