package dev.eventline.broker;

import java.io.IOException;
import java.net.URISyntaxException;
import java.security.GeneralSecurityException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeoutException;

import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;

/**
 * Opens connections to the broker named by {@code rabbitmq.url}. Long-lived connections recover on their own
 * (the client's automatic recovery re-opens channels and consumers); each has a name that says what it is
 * for, so it can be found in the management UI.
 */
public final class Broker {

    private final ConnectionFactory factory;
    private final String redactedUrl;

    public Broker(String url, long reconnectMillis, int connectTimeoutMillis) {
        this.factory = new ConnectionFactory();
        try {
            factory.setUri(url);
        } catch (URISyntaxException | GeneralSecurityException | IllegalArgumentException e) {
            throw new IllegalArgumentException("rabbitmq.url (RABBITMQ_URL) is not an amqp:// or amqps:// URL: "
                    + redact(url) + " (" + e.getMessage() + ")", e);
        }
        factory.setAutomaticRecoveryEnabled(true);
        factory.setTopologyRecoveryEnabled(true);
        factory.setNetworkRecoveryInterval(reconnectMillis);
        factory.setConnectionTimeout(connectTimeoutMillis);
        factory.setHandshakeTimeout(connectTimeoutMillis);
        factory.setRequestedHeartbeat(15);
        this.redactedUrl = redact(url);
    }

    public Connection open(String name) throws IOException, TimeoutException {
        return factory.newConnection(name);
    }

    /** A connection whose consumers run on the given pool (this bounds the connection's handler threads). */
    public Connection open(String name, ExecutorService consumerPool) throws IOException, TimeoutException {
        return factory.newConnection(consumerPool, name);
    }

    /** @return the broker URL with the password hidden, for logs */
    public String describe() {
        return redactedUrl;
    }

    static String redact(String url) {
        return url == null ? "null" : url.replaceAll("//([^:/@]*):[^@]*@", "//$1:***@");
    }
}
