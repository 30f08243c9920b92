package dev.eventline.broker;

import java.io.IOException;
import java.net.URISyntaxException;
import java.security.GeneralSecurityException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeoutException;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.Method;
import com.rabbitmq.client.ShutdownSignalException;

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

    /**
     * A connection that is not recovered automatically: for state that must end with the connection, such as
     * exclusive queues used as locks (a recovered connection would silently try to take them again).
     */
    public Connection openUnrecovered(String name) throws IOException, TimeoutException {
        ConnectionFactory plain = factory.clone();
        plain.setAutomaticRecoveryEnabled(false);
        plain.setTopologyRecoveryEnabled(false);
        return plain.newConnection(name);
    }

    /** @return the broker URL with the password hidden, for logs */
    public String describe() {
        return redactedUrl;
    }

    /**
     * @return the broker's own words for a failure (the reply text of the channel or connection close that caused
     *         it, e.g. "NOT_FOUND - no queue 'x'"), else the exception itself
     */
    public static String reason(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof ShutdownSignalException s) {
                Method reason = s.getReason();
                return reason instanceof AMQP.Channel.Close c ? c.getReplyText()
                        : reason instanceof AMQP.Connection.Close c ? c.getReplyText() : s.getMessage();
            }
        }
        return failure.getCause() != null && failure.getMessage() == null ? failure.getCause().toString()
                : failure.toString();
    }

    /** Closes a channel that may already be closed; a failure to close it has nothing to report. */
    /**
     * Passive declare on a channel of its own (a missing queue closes the channel it is asked on).
     *
     * @return the queue's counts, or empty when it does not exist
     */
    public static java.util.Optional<com.rabbitmq.client.AMQP.Queue.DeclareOk> passive(Connection connection,
            String queue) throws IOException {
        Channel ch = connection.createChannel();
        try {
            return java.util.Optional.of(ch.queueDeclarePassive(queue));
        } catch (IOException e) {
            return java.util.Optional.empty();
        } finally {
            closeQuietly(ch);
        }
    }

    public static void closeQuietly(Channel channel) {
        if (channel.isOpen()) {
            try {
                channel.close();
            } catch (IOException | TimeoutException | RuntimeException ignored) {
                // closed meanwhile
            }
        }
    }

    static String redact(String url) {
        return url == null ? "null" : url.replaceAll("//([^:/@]*):[^@]*@", "//$1:***@");
    }
}
