package dev.eventline.topology;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

import dev.eventline.config.EventlineConfig;

@ApplicationScoped
public class NamesProducer {

    @Produces
    @Singleton
    Names names(EventlineConfig config) {
        return new Names(config.topology().prefix().orElse(""));
    }
}
