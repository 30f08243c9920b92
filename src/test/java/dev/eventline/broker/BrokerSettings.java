package dev.eventline.broker;

import java.time.Duration;
import java.util.Optional;

/** {@link BrokerConfig} for tests that build a {@link Broker} themselves: a URL, and TLS when given. */
record BrokerSettings(String url, Optional<String> addresses, Tls tls) implements BrokerConfig {

    static BrokerConfig of(String url) {
        return new BrokerSettings(url, Optional.empty(), new TlsSettings(null, null, null, null));
    }

    @Override
    public Duration reconnectInterval() {
        return Duration.ofSeconds(1);
    }

    @Override
    public Duration connectTimeout() {
        return Duration.ofSeconds(5);
    }

    @Override
    public int publisherChannels() {
        return 1;
    }

    @Override
    public int maxUnconfirmed() {
        return 1000;
    }

    /** Store files and passwords, each null when not set. */
    record TlsSettings(String trust, String trustPassword, String keys, String keysPassword) implements Tls {

        @Override
        public Optional<String> trustStore() {
            return Optional.ofNullable(trust);
        }

        @Override
        public Optional<String> trustStorePassword() {
            return Optional.ofNullable(trustPassword);
        }

        @Override
        public Optional<String> keyStore() {
            return Optional.ofNullable(keys);
        }

        @Override
        public Optional<String> keyStorePassword() {
            return Optional.ofNullable(keysPassword);
        }

        @Override
        public boolean verifyHostname() {
            return true;
        }
    }
}
