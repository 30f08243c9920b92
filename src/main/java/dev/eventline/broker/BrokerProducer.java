package dev.eventline.broker;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

import com.fasterxml.jackson.databind.ObjectMapper;

@ApplicationScoped
public class BrokerProducer {

    @Produces
    @Singleton
    Broker broker(BrokerConfig config) {
        return new Broker(config);
    }

    @Produces
    @Singleton
    EventCodec codec(ObjectMapper json) {
        return new EventCodec(json);
    }
}
