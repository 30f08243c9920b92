package dev.eventline.broker;

import java.time.Duration;
import java.util.Optional;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** Broker connection settings (prefix {@code rabbitmq}; {@code rabbitmq.url} is the {@code RABBITMQ_URL} variable). */
@ConfigMapping(prefix = "rabbitmq")
public interface BrokerConfig {

    /** Broker address, {@code amqp://user:pass@host:port/vhost} (vhost URL-encoded, {@code %2F} for "/"). Default the local broker. */
    @WithDefault("amqp://guest:guest@127.0.0.1:5672/%2F")
    String url();

    /**
     * The cluster's nodes, {@code host:port,host:port,...}: connections try them (shuffled) instead of the URL's
     * host and port, and move to another node when theirs is lost; the URL still gives user, password, vhost
     * and TLS. Default: the URL's host alone.
     */
    Optional<String> addresses();

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

    /** TLS for {@code amqps://} URLs. */
    Tls tls();

    /** Trust and client certificates for {@code amqps://}; without a trust store the JVM's default trust applies. */
    interface Tls {

        /** Trust store file (PKCS12 or JKS) holding the CA that signed the broker's certificate. Default: the JVM's. */
        Optional<String> trustStore();

        /** Password of the trust store. Default none. */
        Optional<String> trustStorePassword();

        /** Key store file (PKCS12 or JKS) with this client's certificate and key, for brokers that verify peers. Default none. */
        Optional<String> keyStore();

        /** Password of the key store (and of its key). Default none. */
        Optional<String> keyStorePassword();

        /** Check that the broker's certificate names the host connected to. Default true. */
        @WithDefault("true")
        boolean verifyHostname();
    }
}
