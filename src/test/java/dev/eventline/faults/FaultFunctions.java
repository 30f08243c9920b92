package dev.eventline.faults;

import jakarta.inject.Inject;

import io.quarkus.funqy.Context;
import io.quarkus.funqy.Funq;
import io.quarkus.funqy.knative.events.CloudEvent;
import io.quarkus.funqy.knative.events.CloudEventMapping;

/** Handlers for the test functions in {@code src/test/resources/functions-faults}, scripted per event. */
public class FaultFunctions {

    @Inject
    Ledger ledger;

    @Funq
    @CloudEventMapping(trigger = "fault.strict")
    public void faultStrict(Script script, @Context CloudEvent<?> event) {
        ledger.run(event.id(), script);
    }

    @Funq
    @CloudEventMapping(trigger = "fault.relaxed")
    public void faultRelaxed(Script script, @Context CloudEvent<?> event) {
        ledger.run(event.id(), script);
    }

    @Funq
    @CloudEventMapping(trigger = "fault.slow")
    public void faultSlow(Script script, @Context CloudEvent<?> event) {
        ledger.run(event.id(), script);
    }

    @Funq
    @CloudEventMapping(trigger = "fault.fragile")
    public void faultFragile(Script script, @Context CloudEvent<?> event) {
        ledger.run(event.id(), script);
    }

    @Funq
    @CloudEventMapping(trigger = "fault.crashy")
    public void faultCrashy(Script script, @Context CloudEvent<?> event) {
        ledger.run(event.id(), script);
    }
}
