package dev.eventline.trigger;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;

import dev.eventline.broker.Broker;
import dev.eventline.broker.HeldKeysList;
import dev.eventline.topology.Names;

/**
 * The broker side of parked mode for one partition: the queue of each held key's parked events
 * ({@code <fn>-<i>.parked.<h>}, created while the key is held, deleted once it is drained) and the partition's
 * list of held keys ({@code <fn>-<i>.held}, one message that the newest write replaces), from which the next
 * owner of the partition, here or in another instance, learns what waits where.
 * <p>
 * Every write is confirmed before the caller goes on: an event is acked in its partition only once its parked
 * copy is stored, and the list is written before the ack of the event that changed it, so after any crash the
 * list says at least as much as the acks did.
 * <p>
 * All of it is in quorum queues, like the partitions: a classic queue lives on one node, and while that node is
 * down it can be neither declared nor read, so a partition whose list sat there could not be taken by anyone
 * (the fault matrix's leader kill froze it for good). A quorum queue gives a message taken and not acked back at
 * its head, and counts that return; RabbitMQ 4 drops (or dead-letters) a message after 20 returns unless the
 * queue says otherwise, and every take of the partition, every operator read and every hand-over returns one,
 * so each queue sets a delivery limit that nothing reaches (a parked event's returns still count against its
 * attempts, through {@code x-delivery-count}, as a partition's do).
 * <p>
 * What a parked queue holds is asked with {@code basic.get}, never with a passive declare's count: a quorum
 * queue answers the count 0 when its leader does not answer in time (a node lost, an election), and a key read
 * as empty would be freed, or its queue deleted, with events in it.
 * <p>
 * Publishing uses a confirm channel of its own, replaced after any failure (see {@link dev.eventline.fault.DeadLetters}
 * for why); each key's parked events are taken back on a channel of the drain's own, so a closing one gives back
 * only that key's event, to its queue's head.
 */
final class KeyParking {

    private static final Logger LOG = Logger.getLogger(KeyParking.class);
    /** Held keys per partition, at most: the list is rewritten whole on each change. */
    static final int MAX_HELD = 64;
    /** A held key's reason, cut to this many characters in the list. */
    private static final int MAX_REASON = 300;
    private static final long CONFIRM_TIMEOUT_MILLIS = 10_000;
    /** Returns a message of these queues survives: as good as none (see the class comment). */
    private static final int DELIVERY_LIMIT = 1_000_000_000;

    /** What a held key waits for. */
    enum State {
        /** its head event retries in a call here */
        FAILING,
        /** its head event was dead-lettered, or retried when the partition changed hands: it waits for it to come back */
        HELD,
        /** its parked events are being called, in order */
        DRAINING
    }

    /**
     * One held key, as the list records it.
     *
     * @param head   message id of the event the key waits on (FAILING, HELD), or of the last one that did
     * @param reason why, for operators
     * @param since  epoch milliseconds since when the key is held
     * @param parkedHead whether the head event was taken from the key's parked queue (FAILING: it goes back to the
     *               head of that queue, not to the partition)
     * @param copied id of the head event, taken from the partition, whose copy leads the key's parked queue (it
     *               was parked first, so that it does not hold back the partition's acks while it retries): the
     *               drain skips that copy once the head is done; null when none
     */
    record Held(String key, State state, String head, String reason, long since, boolean parkedHead, String copied) {
    }

    private final Connection publishing;
    private final Connection consuming;
    private final Names names;
    private final String function;
    private final int partition;
    private final long maxLength;
    private final String deadLetterExchange;
    private final ObjectMapper json;
    private final String exchange;
    private volatile Channel publish;
    /** Queues declared and bound on {@link #publish}; guarded by this. */
    private final java.util.Set<String> bound = new java.util.HashSet<>();
    /** Sequence of the list's writes: the reader keeps the highest. Guarded by this. */
    private long written;
    /** Set when its consumer stops: nothing more is parked or written (the partition's next owner writes). */
    private volatile boolean closed;

    KeyParking(Connection publishing, Connection consuming, Names names, String function, int partition,
            long maxLength, ObjectMapper json) {
        this.publishing = publishing;
        this.consuming = consuming;
        this.names = names;
        this.function = function;
        this.partition = partition;
        this.maxLength = maxLength;
        this.deadLetterExchange = names.deadLetterExchange(function);
        this.json = json;
        this.exchange = names.parkingExchange(function);
    }

    String queueOf(String key) {
        return names.parkedEvents(function, partition, key);
    }

    private String listQueue() {
        return names.heldKeys(function, partition);
    }

    /** The copy operators read: reading takes a message for a moment, which the owner's own list must never miss. */
    private String viewQueue() {
        return names.heldKeysView(function, partition);
    }

    /** The list and the operators' copy: one message, the newest (readers keep the highest {@code seq} they find). */
    private static Map<String, Object> listArguments() {
        return Map.of("x-queue-type", "quorum", "x-max-length", 1, "x-overflow", "drop-head", "x-delivery-limit",
                DELIVERY_LIMIT);
    }

    private Map<String, Object> parkedArguments() {
        // when full the publish is refused (the event stays in the window); an event that ever falls out (its
        // delivery limit) goes to the dead-letter queue rather than nowhere
        return Map.of("x-queue-type", "quorum", "x-max-length", maxLength, "x-overflow", "reject-publish",
                "x-dead-letter-exchange", deadLetterExchange, "x-dead-letter-strategy", "at-least-once",
                "x-delivery-limit", DELIVERY_LIMIT);
    }

    /**
     * Reads the partition's held keys, as its last owner left them, and what became of them since: a key that
     * waits for an event (dead-lettered, or retrying when the partition changed hands) stays held; a key whose
     * head event, taken from the partition, was retrying waits for it to come back (it was not acked); a key that
     * was draining, or whose head event was taken from its parked queue (it went back to that queue's head),
     * drains; a key whose parked queue is gone or empty (a take finds nothing) is free. Nothing is written or
     * deleted here: the list is given back as it was, and the next change writes it anew.
     */
    synchronized List<Held> restore() throws IOException {
        Channel ch = consuming.createChannel();
        try {
            try {
                ch.queueDeclare(listQueue(), true, false, false, listArguments());
            } catch (IOException e) {
                Broker.closeQuietly(ch); // refused (declared with other arguments before): use it as it is
                ch = consuming.createChannel();
                ch.queueDeclarePassive(listQueue());
            }
            HeldKeysList list = HeldKeysList.read(ch, listQueue(), json);
            if (list.unreadable() > 0) {
                LOG.warnf("function %s partition %d: %d messages of %s are not held-key lists; skipped", function,
                        partition, list.unreadable(), listQueue());
            }
            written = Math.max(written, list.seq());
            List<Held> held = new ArrayList<>();
            for (JsonNode k : list.keys()) {
                State state = stateOf(k.path("state").asText());
                if (state == null || !k.path("key").isTextual()) {
                    LOG.warnf("function %s partition %d: an entry of the held-key list names no key or no known "
                            + "state; skipped", function, partition);
                    continue;
                }
                Held h = new Held(k.path("key").asText(), state,
                        k.path("head").isTextual() ? k.path("head").asText() : null, k.path("reason").asText(""),
                        k.path("since").asLong(), k.path("parkedHead").asBoolean(),
                        k.path("copied").isTextual() ? k.path("copied").asText() : null);
                // what its queue holds first, asked with a take: the queue's leader answers, or this throws (and
                // the partition is taken later); a count would read 0 while the leader is away
                String first = h.state() == State.HELD && h.copied() == null ? null : firstId(h.key());
                if (h.copied() != null && !h.copied().equals(first)) {
                    // its copy never reached the queue (the owner stopped first): the event itself was not
                    // acked, and comes back; nothing to skip
                    h = new Held(h.key(), h.state(), h.head(), h.reason(), h.since(), h.parkedHead(), null);
                }
                if (h.state() == State.HELD) {
                    held.add(h);
                } else if (first == null) {
                    // nothing parked: free, whatever the list says (an event it waited for, should it come back,
                    // is called as any other; a list whose write failed after all may name an event acked long ago)
                    continue;
                } else if (h.state() == State.FAILING && !h.parkedHead() && h.copied() == null) {
                    // its head was not acked: it comes back, and what is parked waits behind it
                    held.add(new Held(h.key(), State.HELD, h.head(), "retrying when the partition changed hands: "
                            + "waits for event " + h.head() + " to come back", h.since(), false, null));
                } else {
                    // a failing head taken from the parked queue, or copied to it, is the queue's first event:
                    // draining calls it again (a done head's copy is skipped)
                    held.add(new Held(h.key(), State.DRAINING, h.head(), h.reason(), h.since(), false,
                            h.state() == State.FAILING ? null : h.copied()));
                }
            }
            return held;
        } finally {
            Broker.closeQuietly(ch); // the list goes back, unchanged
        }
    }

    private static State stateOf(String name) {
        for (State s : State.values()) {
            if (s.name().equals(name)) {
                return s;
            }
        }
        return null;
    }

    /**
     * Takes the key's first parked event and gives it back to its place (the queue's leader answers, or this
     * throws).
     *
     * @return its id (empty when it has none), or null when the queue is empty or does not exist
     */
    private String firstId(String key) throws IOException {
        Channel ch = consuming.createChannel();
        try {
            GetResponse r = ch.basicGet(queueOf(key), false);
            return r == null ? null : java.util.Objects.requireNonNullElse(r.getProps().getMessageId(), "");
        } catch (IOException e) {
            if (Broker.channelReplyCode(e) == AMQP.NOT_FOUND) {
                return null; // never created, or deleted
            }
            throw e;
        } finally {
            Broker.closeQuietly(ch); // unacked: back at the head
        }
    }

    /**
     * Writes the list of held keys and waits for its confirm.
     *
     * @param held supplies the list at the time of writing (writes are one at a time, the newest last)
     * @return whether the broker stored it
     */
    synchronized boolean write(Supplier<List<Held>> held) {
        return write(held.get());
    }

    private boolean write(List<Held> held) {
        if (closed) {
            return false;
        }
        ObjectNode list = json.createObjectNode();
        list.put("seq", ++written);
        list.put("function", function);
        list.put("partition", partition);
        ArrayNode keys = list.putArray("keys");
        for (Held h : held) {
            String reason = h.reason() == null ? "" : h.reason();
            keys.addObject().put("key", h.key()).put("state", h.state().name()).put("head", h.head())
                    .put("reason", reason.length() > MAX_REASON ? reason.substring(0, MAX_REASON) : reason)
                    .put("since", h.since()).put("parkedHead", h.parkedHead()).put("copied", h.copied());
        }
        try {
            Channel ch = bind(publishChannel(), listQueue(), listArguments());
            ch = bind(ch, viewQueue(), listArguments());
            AMQP.BasicProperties props = new AMQP.BasicProperties.Builder().deliveryMode(2)
                    .contentType("application/json").build();
            byte[] body = json.writeValueAsBytes(list);
            ch.basicPublish(exchange, listQueue(), true, props, body);
            ch.basicPublish(exchange, viewQueue(), true, props, body);
            if (ch.waitForConfirms(CONFIRM_TIMEOUT_MILLIS) && !returned) {
                return true;
            }
            discard();
        } catch (IOException | TimeoutException | RuntimeException e) {
            LOG.debugf("function %s partition %d: the held-keys list was not stored: %s", function, partition,
                    Broker.reason(e));
            discard();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            discard();
        }
        return false;
    }

    /** What became of a parked copy. */
    enum Parked { STORED, FULL, FAILED }

    /** Parks one event behind the key's others (creating the key's queue), and waits for the confirm. */
    synchronized Parked park(String key, AMQP.BasicProperties properties, byte[] body) {
        if (closed) {
            return Parked.FAILED;
        }
        String queue = queueOf(key);
        try {
            Channel ch = bind(publishChannel(), queue, parkedArguments());
            ch.basicPublish(exchange, queue, true, properties.builder().deliveryMode(2).build(), body);
            if (ch.waitForConfirms(CONFIRM_TIMEOUT_MILLIS)) {
                if (returned) {
                    discard(); // its queue was deleted meanwhile: declared and bound anew on the next channel
                    return Parked.FAILED;
                }
                return Parked.STORED;
            }
            discard();
            return Parked.FULL; // a nack: the queue is at its length cap
        } catch (IOException | TimeoutException | RuntimeException e) {
            LOG.debugf("function %s partition %d: parking failed: %s", function, partition, Broker.reason(e));
            discard();
            return Parked.FAILED;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            discard();
            return Parked.FAILED;
        }
    }

    private volatile boolean returned;

    private Channel publishChannel() throws IOException {
        returned = false;
        if (publish == null || !publish.isOpen()) {
            bound.clear();
            Channel ch = publishing.createChannel();
            ch.confirmSelect();
            ch.addReturnListener(r -> returned = true);
            ch.exchangeDeclare(exchange, "direct", true);
            publish = ch;
        }
        return publish;
    }

    /**
     * Declares the queue and binds it to the parking exchange by its name, once per channel (a queue deleted
     * meanwhile makes the next publish come back unroutable: the channel is then replaced and this done anew).
     * A queue that exists with other arguments (its cap came from another partition count or ceiling) is used as
     * it is.
     *
     * @return the channel to go on with (a new one when the declare was refused)
     */
    private Channel bind(Channel ch, String queue, Map<String, Object> arguments) throws IOException {
        if (bound.contains(queue)) {
            return ch;
        }
        try {
            ch.queueDeclare(queue, true, false, false, arguments);
        } catch (IOException e) {
            discard(); // refused (other arguments): the broker closed the channel
            ch = publishChannel();
            ch.queueDeclarePassive(queue);
        }
        ch.queueBind(queue, exchange, queue);
        bound.add(queue);
        return ch;
    }

    private void discard() {
        if (publish != null) {
            try {
                publish.abort();
            } catch (IOException | RuntimeException ignored) {
                // already closed
            }
            publish = null;
        }
    }

    /** @return a channel to take parked events on: what it holds unacked goes back to its queue's head when it closes */
    Channel openTake() throws IOException {
        return consuming.createChannel();
    }

    /**
     * Takes the key's oldest parked event, unacked, on {@code ch}.
     *
     * @return the event, or null when none is parked (when the key's queue does not exist, the broker has closed
     *         {@code ch})
     */
    GetResponse take(Channel ch, String key) throws IOException {
        try {
            return ch.basicGet(queueOf(key), false);
        } catch (IOException e) {
            if (Broker.channelReplyCode(e) == AMQP.NOT_FOUND) {
                return null; // never created, or deleted: nothing parked
            }
            throw e;
        }
    }

    /**
     * Deletes the key's parked queue if it is empty and the key is still free. Quorum queues refuse
     * {@code queue.delete} with {@code if-empty} (a connection error), so the emptiness is checked here, with a
     * take (a count may read 0 while the leader is away), under this object's lock: every park goes through it,
     * so nothing is stored between the check and the delete, and an event is taken from the queue only by a
     * drain of the key, which needs the key held and an event parked first. Once this consumer is closed, the
     * partition may be another owner's: nothing is deleted then. The next park declares and binds the queue anew.
     *
     * @param free whether the key is still not held (asked under the lock)
     */
    synchronized void deleteIfEmpty(String key, java.util.function.BooleanSupplier free) {
        Channel ch = null;
        try {
            if (closed || !free.getAsBoolean() || firstId(key) != null || closed) {
                return; // stopping, held again meanwhile, or not empty
            }
            ch = consuming.createChannel();
            ch.queueDelete(queueOf(key));
            bound.remove(queueOf(key));
        } catch (IOException | RuntimeException e) {
            LOG.debugf("function %s partition %d: parked queue of a released key not deleted: %s", function,
                    partition, Broker.reason(e));
        } finally {
            if (ch != null) {
                Broker.closeQuietly(ch);
            }
        }
    }

    /**
     * Its consumer stops: nothing more is parked or written, and the publishing channel is aborted at once (a
     * write waiting for its confirm fails, and its event stays unacked), without waiting for what is in progress.
     */
    void close() {
        closed = true;
        Channel ch = publish;
        if (ch != null) {
            try {
                ch.abort();
            } catch (IOException | RuntimeException ignored) {
                // already closed
            }
        }
    }
}
