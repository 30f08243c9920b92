package dev.eventline.admin;

import io.quarkus.runtime.annotations.RegisterForReflection;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.jboss.logging.Logger;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;

import dev.eventline.broker.Broker;
import dev.eventline.config.DescriptionParser;
import dev.eventline.config.FunctionDescription;
import dev.eventline.metrics.FunctionLoad;
import dev.eventline.metrics.QueueMonitor;
import dev.eventline.topology.Names;
import dev.eventline.topology.Partitioning;
import dev.eventline.topology.TopologyManager;

/**
 * The tooling of the partition-count change (docs/partitions.md "Changing the partition count"): pausing and resuming
 * a function's intake at every gate, telling when its partitions are drained, and replacing its drained,
 * unconsumed partition queues with a new set. Adding or removing partitions remaps keys on the hash ring,
 * so the old partitions must be empty and idle before the new ones receive anything: then no event of a
 * key can overtake an earlier one of the same key.
 */
@ApplicationScoped
public class PartitionAdmin {

    private static final Logger LOG = Logger.getLogger(PartitionAdmin.class);

    @Inject
    Broker broker;
    @Inject
    Names names;
    @Inject
    QueueMonitor monitor;
    @Inject
    FunctionLoad load;

    /** One partition queue as the broker has it. */
    @RegisterForReflection // serialized by Jackson (partition state), also in a native image
    public record Partition(String queue, long messages, int consumers, int index) {
    }

    /**
     * @param pausedHere whether this gate already refuses the function's events (it reads the flag every
     *                   monitor interval)
     * @param drained    paused here, every partition queue empty and unconsumed-in-hand, no event in hand
     */
    public record State(boolean paused, boolean pausedHere, boolean inHand, List<Partition> partitions,
            boolean drained) {
    }

    /** @return whether the function's intake is paused (its marker queue exists) */
    public boolean paused(FunctionDescription fn) throws IOException, TimeoutException {
        try (Connection c = broker.open("eventline-admin-intake")) {
            return Broker.passive(c, names.pauseMarker(fn.name())).isPresent();
        }
    }

    /** Pauses (true) or resumes (false) the function's intake at every gate, within one monitor interval. */
    public void pause(FunctionDescription fn, boolean pause) throws IOException, TimeoutException {
        try (Connection c = broker.open("eventline-admin-intake"); Channel ch = c.createChannel()) {
            if (pause) {
                ch.queueDeclare(names.pauseMarker(fn.name()), true, false, false,
                        Map.of("x-max-length", 0, "x-overflow", "reject-publish"));
            } else {
                ch.queueDelete(names.pauseMarker(fn.name()));
            }
        }
        LOG.warnf("function %s: intake %s", fn.name(), pause ? "paused" : "resumed");
    }

    public State state(FunctionDescription fn) throws IOException, TimeoutException {
        try (Connection c = broker.open("eventline-admin-partitions")) {
            boolean paused = Broker.passive(c, names.pauseMarker(fn.name())).isPresent();
            List<Partition> partitions = partitions(c, fn);
            boolean inHand = load.anyInHand(fn.name());
            boolean pausedHere = monitor.paused(fn.name());
            boolean empty = partitions.stream().allMatch(p -> p.messages() == 0) && delayedEvents(c, fn) == 0;
            return new State(paused, pausedHere, inHand, partitions, paused && pausedHere && empty && !inHand);
        }
    }

    /**
     * Replaces the function's partition queues with {@code count} new ones (and their bindings).
     *
     * @throws IllegalStateException when intake is not paused, a partition still holds events, or one is
     *                               still consumed (stop the function's instances first); nothing is changed
     */
    public List<String> repartition(FunctionDescription fn, int count) throws IOException, TimeoutException {
        if (count < 1 || count > DescriptionParser.MAX_PARTITIONS) {
            throw new IllegalArgumentException("partitions must be 1.." + DescriptionParser.MAX_PARTITIONS);
        }
        try (Connection c = broker.open("eventline-admin-repartition")) {
            if (!Broker.passive(c, names.pauseMarker(fn.name())).isPresent()) {
                throw new IllegalStateException("intake of " + fn.name() + " is not paused: pause it first");
            }
            List<Partition> old = partitions(c, fn);
            check(old, delayedEvents(c, fn), heldKeys(c, fn, old));
            // unbind first: from then on nothing new can reach the old partitions; check again; then delete
            String exchange = names.exchange(fn.name());
            try (Channel ch = c.createChannel()) {
                for (Partition p : old) {
                    ch.queueUnbind(p.queue(), exchange, Partitioning.routingKey(p.index()));
                }
                List<Partition> now = partitions(c, fn);
                try {
                    check(now, delayedEvents(c, fn), heldKeys(c, fn, now));
                } catch (IllegalStateException e) {
                    for (Partition p : old) {
                        ch.queueBind(p.queue(), exchange, Partitioning.routingKey(p.index())); // back as it was
                    }
                    throw e;
                }
                for (Partition p : old) {
                    ch.queueDelete(p.queue());
                }
            }
            List<String> differences = new TopologyManager(names).apply(c, fn.withPartitions(count), true);
            LOG.warnf("function %s: %d partitions replaced by %d", fn.name(), old.size(), count);
            return differences;
        }
    }

    /**
     * Refuses while a partition holds events or has consumers, a delay queue holds events, or (parked mode) a
     * partition holds keys: their parked events and their lists go by the partition's index, which a new count
     * would give to other keys.
     */
    private static void check(List<Partition> partitions, long delayed, int held) {
        if (held > 0) {
            throw new IllegalStateException(held + " keys are held with parked events (parked mode; "
                    + "bin/eventline-admin held): wait until they drain, or replay or purge their dead letters");
        }
        for (Partition p : partitions) {
            if (p.messages() > 0 || p.consumers() > 0) {
                throw new IllegalStateException(p.queue() + " holds " + p.messages() + " events and has "
                        + p.consumers() + " consumers: wait until drained and stop the function's instances");
            }
        }
        if (delayed > 0) {
            throw new IllegalStateException(delayed + " events wait in the function's retry delay queues; they "
                    + "return to their partition by name: wait until they are processed");
        }
    }

    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

    /** Parked mode: keys the partitions' lists (their operators' copies) name as held. */
    private int heldKeys(Connection c, FunctionDescription fn, List<Partition> partitions) throws IOException {
        int held = 0;
        for (Partition p : partitions) {
            String view = names.heldKeysView(fn.name(), p.index());
            if (Broker.passive(c, view).isEmpty()) {
                continue;
            }
            com.rabbitmq.client.Channel ch = c.createChannel();
            try {
                held += dev.eventline.broker.HeldKeysList.read(ch, view, JSON).keys().size();
            } finally {
                Broker.closeQuietly(ch); // given back unchanged
            }
        }
        return held;
    }

    /** Events waiting in relaxed-mode delay queues (they return to their partition by its name). */
    private long delayedEvents(Connection c, FunctionDescription fn) throws IOException {
        long total = 0;
        for (String queue : names.delayQueues(fn)) {
            total += Broker.passive(c, queue).map(AMQP.Queue.DeclareOk::getMessageCount).orElse(0);
        }
        return total;
    }

    /** Every partition queue the broker has for the function (all indexes are probed: a set may have gaps). */
    private List<Partition> partitions(Connection c, FunctionDescription fn) throws IOException {
        List<Partition> found = new ArrayList<>();
        for (int i = 0; i < DescriptionParser.MAX_PARTITIONS; i++) {
            String queue = names.partition(fn.name(), i);
            int index = i;
            Broker.passive(c, queue).ifPresent(ok -> found.add(new Partition(queue, ok.getMessageCount(),
                    ok.getConsumerCount(), index)));
        }
        return found;
    }
}
