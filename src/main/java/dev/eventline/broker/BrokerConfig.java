package dev.eventline.broker;

import java.time.Duration;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** Broker connection settings (prefix {@code rabbitmq}; {@code rabbitmq.url} is the {@code RABBITMQ_URL} variable). */
@ConfigMapping(prefix = "rabbitmq")
public interface BrokerConfig {

    /** Broker address, {@code amqp://user:pass@host:port/vhost} (vhost URL-encoded, {@code %2F} for "/"). Default the local broker. */
    @WithDefault("amqp://guest:guest@127.0.0.1:5672/%2F")
    String url();

    /** Wait between attempts to reach the broker, at start-up and after a lost connection. Default 2s. */
    @WithDefault("2s")
    Duration reconnectInterval();

    /** TCP connect and AMQP handshake limit. Default 5s. */
    @WithDefault("5s")
    Duration connectTimeout();

    /** Publishing channels in the gate's pool; one request publishes on one channel. Default 4. */
    @WithDefault("4")
    int publisherChannels();

    /** Publishes awaiting a broker confirm, at most, per process; more waits, then gets {@code 503}. Default 20000. */
    @WithDefault("20000")
    int maxUnconfirmed();
}
