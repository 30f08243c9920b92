package dev.eventline.broker;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * The TLS context for {@code amqps://}: the broker's certificate is checked against the configured trust
 * store (else the JVM's default trust, never "trust everything", which is what the client's own
 * {@code amqps} handling does), and a key store, when given, supplies this client's certificate for brokers
 * that verify peers. Problems stop start-up with the setting's name and the file, never a password.
 */
final class BrokerTls {

    private BrokerTls() {
    }

    static SSLContext context(BrokerConfig.Tls tls) {
        try {
            TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trust.init(tls.trustStore().isPresent()
                    ? load("rabbitmq.tls.trust-store", tls.trustStore().get(), tls.trustStorePassword().orElse(null))
                    : null);
            KeyManagerFactory keys = null;
            if (tls.keyStore().isPresent()) {
                char[] password = tls.keyStorePassword().map(String::toCharArray).orElse(new char[0]);
                keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                keys.init(load("rabbitmq.tls.key-store", tls.keyStore().get(), tls.keyStorePassword().orElse(null)),
                        password);
            }
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keys == null ? null : keys.getKeyManagers(), trust.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("rabbitmq.tls: cannot set up TLS: " + e.getClass().getSimpleName()
                    + " (check the stores' passwords and contents)", e);
        }
    }

    /** PKCS12 or JKS, whichever the file is (the JDK's keystore detects the type). */
    private static KeyStore load(String setting, String file, String password) {
        Path path = Path.of(file);
        if (!Files.isReadable(path)) {
            throw new IllegalArgumentException(setting + ": cannot read " + path.toAbsolutePath());
        }
        try {
            return KeyStore.getInstance(path.toFile(), password == null ? null : password.toCharArray());
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException(setting + ": " + path.toAbsolutePath()
                    + " is not a readable PKCS12 or JKS store with this password (" + e.getClass().getSimpleName()
                    + ")");
        }
    }
}
