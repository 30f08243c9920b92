package dev.eventline.broker;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeoutException;

import javax.net.SocketFactory;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Address;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.Method;
import com.rabbitmq.client.ShutdownSignalException;

/**
 * Opens connections to the broker named by {@code rabbitmq.url}, on any node of {@code rabbitmq.addresses}
 * when given. Each connection has a name that says what it is for, so it can be found in the management UI.
 * <p>
 * Two kinds: observers (progress listeners, depth readers, admin) use the client's automatic recovery; what
 * holds state that must end with the connection (partition locks and consumers, confirm channels) uses
 * {@link #openUnrecovered} and is rebuilt by its owner, so no half-recovered consumer or confirm channel can
 * outlive the connection it belonged to.
 */
public final class Broker {

    private final ConnectionFactory factory;
    private final List<Address> addresses;
    private final String redactedUrl;

    private Broker(ConnectionFactory factory, List<Address> addresses, String redactedUrl) {
        this.factory = factory;
        this.addresses = addresses;
        this.redactedUrl = redactedUrl;
    }

    public Broker(BrokerConfig config) {
        BrokerUrl url = BrokerUrl.parse(config.url());
        this.addresses = url.addresses(config.addresses().orElse(null));
        this.factory = new ConnectionFactory();
        try {
            factory.setUri(url.uri());
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new IllegalArgumentException("rabbitmq.url (RABBITMQ_URL) is not a usable broker URL: "
                    + e.getClass().getSimpleName() + "; expected amqp://user:password@host:port/vhost");
        }
        if (url.tls()) {
            factory.useSslProtocol(BrokerTls.context(config.tls())); // replaces the client's trust-everything default
            if (config.tls().verifyHostname()) {
                factory.enableHostnameVerification();
            }
        }
        factory.setAutomaticRecoveryEnabled(true);
        factory.setTopologyRecoveryEnabled(true);
        factory.setNetworkRecoveryInterval(config.reconnectInterval().toMillis());
        factory.setConnectionTimeout((int) config.connectTimeout().toMillis());
        factory.setHandshakeTimeout((int) config.connectTimeout().toMillis());
        factory.setRequestedHeartbeat(15);
        this.redactedUrl = url.redacted() + (config.addresses().isPresent() ? " via " + addresses : "");
    }

    /**
     * The same broker, reached through these sockets: a SOCKS or other proxy's socket factory, or a network a
     * test controls (it can then cut this broker's connections as a dead process or a lost network would).
     * Plain AMQP only: TLS brings its own socket factory.
     *
     * @throws IllegalStateException for an {@code amqps} URL
     */
    public Broker through(SocketFactory sockets) {
        if (factory.isSSL()) {
            throw new IllegalStateException("a socket factory of one's own is for plain AMQP; this URL uses TLS");
        }
        ConnectionFactory routed = factory.clone();
        routed.setSocketFactory(sockets);
        return new Broker(routed, addresses, redactedUrl);
    }

    /** A connection the client recovers on its own (for observers: listeners, readers). */
    public Connection open(String name) throws IOException, TimeoutException {
        return factory.newConnection(addresses, name);
    }

    /**
     * A connection that is not recovered automatically: for state that must end with the connection, such as
     * exclusive queues used as locks, consumers and confirm channels. Its owner opens a new one when it ends.
     */
    public Connection openUnrecovered(String name) throws IOException, TimeoutException {
        return unrecovered().newConnection(addresses, name);
    }

    /** The same, with its consumers running on the given pool (this bounds the connection's handler threads). */
    public Connection openUnrecovered(String name, ExecutorService consumerPool) throws IOException, TimeoutException {
        return unrecovered().newConnection(consumerPool, addresses, name);
    }

    /**
     * A connection for confirm channels ({@link ConfirmingPublisher}): not recovered automatically, and its
     * channel operations (open, confirm.select, close) wait for the broker's answer at most the connect timeout
     * (at least 1 s), not the client's 10 minutes, so a channel broken because its confirms stopped is closed,
     * and its channel number given back, in bounded time.
     */
    public Connection openPublishing(String name) throws IOException, TimeoutException {
        ConnectionFactory publishing = unrecovered();
        publishing.setChannelRpcTimeout(Math.max(1000, factory.getHandshakeTimeout()));
        return publishing.newConnection(addresses, name);
    }

    private ConnectionFactory unrecovered() {
        ConnectionFactory plain = factory.clone();
        plain.setAutomaticRecoveryEnabled(false);
        plain.setTopologyRecoveryEnabled(false);
        return plain;
    }

    /** @return the broker URL with the password hidden, for logs */
    public String describe() {
        return redactedUrl;
    }

    /**
     * @return the reply code of the channel close that caused a failure (e.g. 404 for a missing queue), else 0
     */
    public static int channelReplyCode(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof ShutdownSignalException s && s.getReason() instanceof AMQP.Channel.Close c) {
                return c.getReplyCode();
            }
        }
        return 0;
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

    /** Closes a channel that may already be closed; a failure to close it has nothing to report. */
    public static void closeQuietly(Channel channel) {
        if (channel.isOpen()) {
            try {
                channel.close();
            } catch (IOException | TimeoutException | RuntimeException ignored) {
                // closed meanwhile
            }
        }
    }

}
