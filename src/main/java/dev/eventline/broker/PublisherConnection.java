package dev.eventline.broker;

import java.io.IOException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

import org.jboss.logging.Logger;

import com.rabbitmq.client.Connection;

import dev.eventline.util.Daemons;

/**
 * The publisher's connection, reopened by this class rather than by the client's automatic recovery (a
 * recovered channel restarts its confirm numbering behind the publisher's back). While it is closed, callers
 * learn it at once ({@link #current()} is empty) and a reopen is scheduled: at most one attempt per interval,
 * on a background thread, until one succeeds. It also tracks whether the broker blocks publishing.
 */
final class PublisherConnection implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(PublisherConnection.class);

    /** Opens a connection; for a publisher, one without automatic recovery. */
    @FunctionalInterface
    interface Connector {
        Connection open() throws IOException, TimeoutException;
    }

    private final Connector connector;
    private final long intervalNanos;
    private final ScheduledExecutorService reopener = Daemons.scheduler("eventline-publisher-reopen");
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private volatile Connection connection;
    /** Why the broker blocked the current connection (memory or disk alarm), or null while it does not. */
    private volatile String blocked;
    private volatile boolean closed;
    private volatile long lastAttempt;
    private volatile boolean failing;

    /** Opens the first connection now: the caller learns at once that the broker cannot be reached. */
    PublisherConnection(Connector connector, Duration reopenInterval) throws IOException, TimeoutException {
        this.connector = connector;
        this.intervalNanos = reopenInterval.toNanos();
        this.lastAttempt = System.nanoTime();
        attach(connector.open());
    }

    /** A connection given by the caller: never reopened here (one with automatic recovery recovers itself). */
    PublisherConnection(Connection given) {
        this.connector = null;
        this.intervalNanos = 0;
        attach(given);
    }

    /** @return the open connection, else empty, with a reopen scheduled */
    Optional<Connection> current() {
        Connection c = connection;
        if (c.isOpen()) {
            return Optional.of(c);
        }
        scheduleReopen();
        return Optional.empty();
    }

    /** @return the broker's reason while it blocks publishing on this connection, else empty */
    Optional<String> blocked() {
        return Optional.ofNullable(blocked);
    }

    private void attach(Connection c) {
        blocked = null;
        c.addBlockedListener(reason -> {
            blocked = reason;
            LOG.warnf("the broker blocked publishing (%s): the gate answers 503 until it unblocks", reason);
        }, () -> {
            blocked = null;
            LOG.info("the broker unblocked publishing");
        });
        c.addShutdownListener(cause -> {
            blocked = null; // a lost connection never hears 'unblocked'
            if (!closed) {
                LOG.warnf("publisher connection lost (%s)%s", Broker.reason(cause), connector == null ? ""
                        : ": reopening it");
                scheduleReopen();
            }
        });
        connection = c;
    }

    private void scheduleReopen() {
        if (closed || connector == null || !scheduled.compareAndSet(false, true)) {
            return;
        }
        long wait = Math.max(0, lastAttempt + intervalNanos - System.nanoTime());
        try {
            reopener.schedule(this::reopen, wait, TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            scheduled.set(false); // closed meanwhile
        }
    }

    private void reopen() {
        lastAttempt = System.nanoTime();
        try {
            if (!closed && !connection.isOpen()) {
                attach(connector.open());
                LOG.info("publisher connection reopened");
                failing = false;
            }
        } catch (IOException | TimeoutException | RuntimeException e) {
            if (!failing) {
                LOG.warnf("cannot reopen the publisher connection yet (%s): trying again every %d ms",
                        Broker.reason(e), TimeUnit.NANOSECONDS.toMillis(intervalNanos));
                failing = true;
            }
        } finally {
            scheduled.set(false);
        }
        if (!closed && !connection.isOpen()) {
            scheduleReopen();
        }
    }

    @Override
    public void close() {
        closed = true;
        reopener.shutdownNow();
        try {
            connection.close();
        } catch (IOException | RuntimeException e) {
            LOG.debug("closing the publisher connection", e);
        }
    }
}
