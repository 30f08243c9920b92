package dev.eventline.gate;

import java.util.Map;

import jakarta.enterprise.context.ApplicationScoped;

import dev.eventline.config.FunctionDescription;
import io.quarkus.arc.DefaultBean;

/** Admission without limits: every valid request is published. */
@DefaultBean
@ApplicationScoped
public class AdmitAll implements AdmissionControl {

    @Override
    public void admit(String producer, Map<FunctionDescription, Integer> eventsPerFunction) {
        // no limits
    }
}
