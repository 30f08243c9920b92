package dev.eventline.trigger;

import java.io.IOException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeoutException;

import org.jboss.logging.Logger;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;

import dev.eventline.broker.Broker;
import dev.eventline.config.FunctionDescription;
import dev.eventline.fault.DeadLetters;
import dev.eventline.topology.Names;

/**
 * One function instance's hold on the broker, from connect to loss: a consuming connection that carries both
 * the partition locks (exclusive queues {@code <fn>-<i>.owner}) and the partitions' consumers, and a
 * publishing connection for dead letters, delayed retries and progress reports. Neither is recovered by the
 * client. Locks and consumers live and die together with their connection, so there is never a consumer
 * without its lock, nor a recovered consumer that nobody handles; when either connection ends for any reason
 * but our own close, {@code onLost} runs once and the owner builds a new session.
 * <p>
 * Publishing is apart because under a resource alarm the broker blocks connections that publish, and the
 * consumers' acks (which free the memory that clears the alarm) must keep flowing.
 */
final class ConsumerSession {

    private static final Logger LOG = Logger.getLogger(ConsumerSession.class);

    private final FunctionDescription fn;
    private final Names names;
    private final Connection consuming;
    private final Connection publishing;
    private final DeadLetters deadLetters;
    private final Channel status;
    private volatile boolean closing;

    private ConsumerSession(FunctionDescription fn, Names names, Connection consuming, Connection publishing,
            Channel status) {
        this.fn = fn;
        this.names = names;
        this.consuming = consuming;
        this.publishing = publishing;
        this.status = status;
        boolean relaxed = fn.retry().mode() == FunctionDescription.RetryMode.RELAXED;
        this.deadLetters = new DeadLetters(publishing, names.deadLetterExchange(fn.name()),
                relaxed ? names.retryExchange(fn.name()) : null, 10_000);
    }

    /**
     * @param pool   the delivery threads (outlive the session)
     * @param onLost runs once, on a client thread, when a connection ends that this session did not close
     */
    static ConsumerSession open(Broker broker, FunctionDescription fn, Names names, String instance,
            ExecutorService pool, Runnable onLost) throws IOException, TimeoutException {
        Connection consuming = broker.openUnrecovered("eventline-trigger-" + fn.name() + "@" + instance, pool);
        Connection publishing = null;
        try {
            publishing = broker.openUnrecovered("eventline-trigger-" + fn.name() + "-publish@" + instance);
            ConsumerSession session = new ConsumerSession(fn, names, consuming, publishing,
                    publishing.createChannel());
            java.util.concurrent.atomic.AtomicBoolean told = new java.util.concurrent.atomic.AtomicBoolean();
            com.rabbitmq.client.ShutdownListener lost = cause -> {
                if (!session.closing && told.compareAndSet(false, true)) {
                    onLost.run();
                }
            };
            consuming.addShutdownListener(lost);
            publishing.addShutdownListener(lost);
            if (!consuming.isOpen() || !publishing.isOpen()) {
                lost.shutdownCompleted(null); // lost before the listeners were there
            }
            return session;
        } catch (IOException | RuntimeException e) {
            consuming.abort();
            if (publishing != null) {
                publishing.abort();
            }
            throw e;
        }
    }

    boolean isOpen() {
        return consuming.isOpen() && publishing.isOpen();
    }

    DeadLetters deadLetters() {
        return deadLetters;
    }

    /** @return parked mode's broker side for the partition, on this session's connections */
    KeyParking parking(int partition, com.fasterxml.jackson.databind.ObjectMapper json) {
        return new KeyParking(publishing, consuming, names, fn.name(), partition, fn.partitionMaxLength(), json);
    }

    /** @return whether this session now holds the partition's lock (false: another instance holds it) */
    boolean lock(int partition) throws IOException {
        Channel ch = consuming.createChannel();
        try {
            ch.queueDeclare(names.partitionLock(fn.name(), partition), false, true, true, null);
            return true;
        } catch (IOException e) {
            return false; // RESOURCE_LOCKED: another instance owns it (the failed declare closed the channel)
        } finally {
            Broker.closeQuietly(ch); // the lock belongs to the connection, not the channel
        }
    }

    void unlock(int partition) {
        if (!consuming.isOpen()) {
            return; // the locks went with the connection
        }
        Channel ch = null;
        try {
            ch = consuming.createChannel();
            ch.queueDelete(names.partitionLock(fn.name(), partition));
        } catch (IOException | RuntimeException e) {
            LOG.debugf("function %s: releasing the lock of partition %d failed: %s", fn.name(), partition, e);
        } finally {
            if (ch != null) {
                Broker.closeQuietly(ch);
            }
        }
    }

    /** A channel on the consuming connection, for one partition's consumer. */
    Channel consumerChannel() throws IOException {
        return consuming.createChannel();
    }

    /** @return the partition queue's ready messages and consumers, or null when it cannot be read */
    AMQP.Queue.DeclareOk inspect(String queue) {
        try {
            return Broker.passive(consuming, queue).orElse(null);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** Fire and forget: a lost report is replaced by the next one. */
    void report(String exchange, AMQP.BasicProperties properties, byte[] body) throws IOException {
        synchronized (status) {
            status.basicPublish(exchange, "", properties, body);
        }
    }

    /** Drops both connections at once, as a crash would (unacked events return to their queues). */
    void abort() {
        closing = true;
        consuming.abort();
        publishing.abort();
    }

    /** Closes both connections; the broker releases every lock this session held. */
    void close() {
        closing = true;
        close(consuming);
        close(publishing);
    }

    private void close(Connection c) {
        try {
            if (c.isOpen()) {
                c.close(5_000);
            }
        } catch (IOException | RuntimeException e) {
            LOG.debugf(e, "function %s: close failed", fn.name());
        }
    }
}
