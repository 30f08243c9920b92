package dev.eventline.admin;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.jboss.logging.Logger;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;

import dev.eventline.broker.Broker;
import dev.eventline.broker.HeldKeysList;
import dev.eventline.broker.OutgoingMessage;
import dev.eventline.broker.PublishException;
import dev.eventline.config.FunctionDescription;
import dev.eventline.fault.DeadLetterFormat;
import dev.eventline.topology.Names;
import dev.eventline.topology.Partitioning;

/**
 * Lists, replays and purges a function's dead-lettered events. The dead-letter queue is read by getting
 * each message without acking it; what an operation does not take goes back, in place, when its channel
 * closes (a classic queue requeues to the original position and has no delivery limit). A scan reads at most
 * the queue's length at its start, so events dead-lettered meanwhile wait for the next one. One operation at
 * a time per process: they would otherwise hide messages from each other.
 * <p>
 * Replay publishes the event, confirmed, to the function's exchange with its partition key, so it lands on
 * the partition its key maps to now, then acks it in the dead-letter queue. It keeps its id, drops its failure
 * history, counts {@code eventline-replays}, and gets a fresh attempt budget. An event that cannot be published
 * at all (a partition key over AMQP's 255 bytes: it reached the queue around the gate) is skipped, left in
 * place, and the replay goes on; the {@link ReplayPublisher} makes sure its failure is charged to it alone.
 */
@ApplicationScoped
public class DeadLetterAdmin {

    private static final Logger LOG = Logger.getLogger(DeadLetterAdmin.class);

    @Inject
    Broker broker;
    @Inject
    Names names;

    private Connection connection;

    /**
     * A page of a listing: {@code events} holds the page; {@code more} says whether further events match.
     * A listing reads only as far as the page needs (plus one), so {@code matched} counts the matches read.
     */
    public record Page(long depth, int scanned, int matched, boolean more, List<DeadLetterEntry> events) {
    }

    /** What a replay or purge did; {@code more} when further events matched beyond the request's maximum. */
    public record Result(int done, int matched, boolean more, List<String> skipped) {
    }

    public synchronized Page list(FunctionDescription fn, Selection selection, int offset, int limit)
            throws IOException, TimeoutException {
        Channel ch = channel();
        try {
            long depth = ch.queueDeclarePassive(names.deadLetterQueue(fn.name())).getMessageCount();
            List<DeadLetterEntry> page = new ArrayList<>();
            int matched = 0;
            int scanned = 0;
            boolean more = false;
            for (GetResponse r; scanned < depth && (r = ch.basicGet(names.deadLetterQueue(fn.name()), false)) != null;) {
                scanned++;
                DeadLetterEntry e = DeadLetterEntry.of(r.getProps(), r.getBody());
                if (selection.isEmpty() || selection.matches(e)) {
                    if (page.size() == limit) {
                        more = true; // stop reading: unacked messages do not count toward the queue's cap
                        break;
                    }
                    if (matched >= offset) {
                        page.add(e);
                    }
                    matched++;
                }
            }
            return new Page(depth, scanned, matched, more, page);
        } finally {
            Broker.closeQuietly(ch); // everything read goes back, in place
        }
    }

    /**
     * One dead-lettered event whole, for an operator to read: its listing, its content type, its data (UTF-8 text,
     * else base64; at most {@link #SHOWN_BYTES} of it) and every header, the failure history and the broker's
     * {@code x-death} among them.
     */
    @io.quarkus.runtime.annotations.RegisterForReflection // serialized by Jackson, also in a native image
    public record Detail(DeadLetterEntry event, String contentType, String encoding, String data, boolean truncated,
            java.util.Map<String, String> headers) {
    }

    /** The most bytes of an event's data a {@link Detail} shows. */
    public static final int SHOWN_BYTES = 64 * 1024;

    /** @return the first dead-lettered event with this id, read and put back in place; empty when none has it */
    public synchronized java.util.Optional<Detail> event(FunctionDescription fn, String id)
            throws IOException, TimeoutException {
        Channel ch = channel();
        try {
            String dlq = names.deadLetterQueue(fn.name());
            long depth = ch.queueDeclarePassive(dlq).getMessageCount();
            int scanned = 0;
            for (GetResponse r; scanned < depth && (r = ch.basicGet(dlq, false)) != null;) {
                scanned++;
                if (id.equals(r.getProps().getMessageId())) {
                    return java.util.Optional.of(detail(r.getProps(), r.getBody()));
                }
            }
            return java.util.Optional.empty();
        } finally {
            Broker.closeQuietly(ch); // everything read goes back, in place
        }
    }

    static Detail detail(AMQP.BasicProperties p, byte[] body) {
        byte[] shown = body.length > SHOWN_BYTES ? java.util.Arrays.copyOf(body, SHOWN_BYTES) : body;
        String text = utf8(shown, shown != body);
        java.util.Map<String, String> headers = new java.util.TreeMap<>();
        if (p.getHeaders() != null) {
            p.getHeaders().forEach((k, v) -> headers.put(k, headerText(v)));
        }
        return new Detail(DeadLetterEntry.of(p, body), p.getContentType(), text != null ? "utf-8" : "base64",
                text != null ? text : java.util.Base64.getEncoder().encodeToString(shown), shown != body, headers);
    }

    private static final com.fasterxml.jackson.databind.ObjectMapper HEADER_JSON =
            new com.fasterxml.jackson.databind.ObjectMapper();

    /** A header's value as text: tables and arrays (the broker's {@code x-death}) as JSON. */
    static String headerText(Object value) {
        Object plain = plain(value);
        if (plain instanceof java.util.Map<?, ?> || plain instanceof List<?>) {
            try {
                return HEADER_JSON.writeValueAsString(plain);
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                return String.valueOf(plain);
            }
        }
        return plain == null ? null : String.valueOf(plain);
    }

    private static Object plain(Object v) {
        if (v instanceof com.rabbitmq.client.LongString || v instanceof byte[]) {
            return dev.eventline.broker.Headers.textOf(v);
        }
        if (v instanceof java.util.Date d) {
            return d.toInstant().toString();
        }
        if (v instanceof java.util.Map<?, ?> m) {
            java.util.Map<String, Object> out = new java.util.LinkedHashMap<>();
            m.forEach((k, x) -> out.put(String.valueOf(k), plain(x)));
            return out;
        }
        if (v instanceof List<?> l) {
            List<Object> out = new ArrayList<>();
            l.forEach(x -> out.add(plain(x)));
            return out;
        }
        return v;
    }

    /** @return the bytes as text when they are valid UTF-8 (in a cut, a character cut at the end is dropped) */
    private static String utf8(byte[] bytes, boolean cut) {
        try {
            java.nio.CharBuffer chars = java.nio.charset.StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
                    .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(bytes, 0, cut ? completeLength(bytes) : bytes.length));
            return chars.toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            return null;
        }
    }

    /** The length without a multi-byte character cut at the end (data shown in part). */
    private static int completeLength(byte[] bytes) {
        int end = bytes.length;
        int back = 0;
        while (back < 3 && end - back - 1 >= 0 && (bytes[end - back - 1] & 0xC0) == 0x80) {
            back++;
        }
        int lead = end - back - 1;
        if (lead < 0 || (bytes[lead] & 0x80) == 0) {
            return end;
        }
        int need = (bytes[lead] & 0xE0) == 0xC0 ? 1 : (bytes[lead] & 0xF0) == 0xE0 ? 2 : 3;
        return back < need ? lead : end;
    }

    public synchronized Result replay(FunctionDescription fn, Selection selection, int ratePerSecond, int max)
            throws IOException, TimeoutException {
        Channel ch = channel();
        try (ReplayPublisher out = new ReplayPublisher(connection)) {
            String dlq = names.deadLetterQueue(fn.name());
            long depth = ch.queueDeclarePassive(dlq).getMessageCount();
            long interval = TimeUnit.SECONDS.toNanos(1) / Math.max(1, ratePerSecond);
            long next = System.nanoTime();
            int done = 0;
            int matched = 0;
            List<String> skipped = new ArrayList<>();
            int scanned = 0;
            for (GetResponse r; scanned < depth && (r = ch.basicGet(dlq, false)) != null;) {
                scanned++;
                DeadLetterEntry e = DeadLetterEntry.of(r.getProps(), r.getBody());
                if (!selection.matches(e)) {
                    continue;
                }
                matched++;
                if (done >= max) {
                    continue;
                }
                if (e.key() == null) {
                    skipped.add(e.id() + ": no partition key (it never passed the gate); purge it instead");
                    continue;
                }
                LockSupport.parkNanos(next - System.nanoTime());
                next = Math.max(next + interval, System.nanoTime());
                PublishException refused = out.publish(new OutgoingMessage(names.exchange(fn.name()),
                        Partitioning.routingKey(e.key(), fn.partitions()),
                        replayed(r.getProps()), r.getBody()));
                if (refused == null) {
                    ch.basicAck(r.getEnvelope().getDeliveryTag(), false);
                    done++;
                } else if (refused.kind() == PublishException.Kind.UNPUBLISHABLE) {
                    skipped.add(e.id() + ": cannot be published (" + refused.getMessage() + "); left in the "
                            + "dead-letter queue, purge it instead");
                } else {
                    skipped.add(e.id() + ": the function's exchange refused it (" + refused.getMessage()
                            + "); left in the dead-letter queue, replay stopped");
                    break;
                }
            }
            LOG.infof("function %s: replayed %d of %d matching dead-lettered events", fn.name(), done, matched);
            return new Result(done, matched, matched > done + skipped.size(), List.copyOf(skipped));
        } finally {
            Broker.closeQuietly(ch);
        }
    }

    public synchronized Result purge(FunctionDescription fn, Selection selection, int max)
            throws IOException, TimeoutException {
        Channel ch = channel();
        try {
            String dlq = names.deadLetterQueue(fn.name());
            long depth = ch.queueDeclarePassive(dlq).getMessageCount();
            int done = 0;
            int matched = 0;
            int scanned = 0;
            // a key may wait for a dead letter with afterDeadLetter: hold, and also (either setting) when its
            // event was dead-lettered while its partition changed hands
            boolean releases = fn.parked();
            List<String> skipped = new ArrayList<>();
            try (ReplayPublisher out = releases ? new ReplayPublisher(connection) : null) {
                for (GetResponse r; scanned < depth && (r = ch.basicGet(dlq, false)) != null;) {
                    scanned++;
                    DeadLetterEntry e = DeadLetterEntry.of(r.getProps(), r.getBody());
                    if (!selection.matches(e)) {
                        continue;
                    }
                    matched++;
                    if (done >= max) {
                        continue;
                    }
                    if (releases && e.key() != null && r.getProps().getMessageId() != null) {
                        // its key may be held for it: the release goes first, so no key stays held for an
                        // event that is gone
                        PublishException refused = out.publish(release(fn, e.key(), r.getProps().getMessageId()));
                        if (refused != null) {
                            skipped.add(e.id() + ": its key's release was refused (" + refused.getMessage()
                                    + "); left in the dead-letter queue, purge stopped");
                            break;
                        }
                    }
                    ch.basicAck(r.getEnvelope().getDeliveryTag(), false);
                    done++;
                }
            }
            LOG.warnf("function %s: purged %d dead-lettered events (%d matched)", fn.name(), done, matched);
            return new Result(done, matched, matched > done + skipped.size(), List.copyOf(skipped));
        } finally {
            Broker.closeQuietly(ch);
        }
    }

    /**
     * Parked mode: the message that tells the owner of the key's partition
     * that the key's held event {@code id} is gone, so the key drains its parked events (in the partition's
     * order, after the events of the key before it). It carries no event and is never called.
     */
    private OutgoingMessage release(FunctionDescription fn, String key, String id) {
        java.util.Map<String, Object> headers = new java.util.HashMap<>();
        headers.put(dev.eventline.broker.EventCodec.PARTITION_KEY, key);
        headers.put(HeldKeysList.RELEASE, id);
        headers.put(dev.eventline.broker.EventCodec.ACCEPTED_AT, System.currentTimeMillis());
        AMQP.BasicProperties props = new AMQP.BasicProperties.Builder().messageId(id).deliveryMode(2)
                .type("eventline.release").headers(headers).build();
        return new OutgoingMessage(names.exchange(fn.name()), Partitioning.routingKey(key, fn.partitions()), props,
                new byte[0]);
    }

    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

    /** A partition's held keys, as its owner last wrote them (parked mode). */
    public record HeldKeys(String partition, List<com.fasterxml.jackson.databind.node.ObjectNode> keys) {
    }

    /**
     * Parked mode: each partition's held keys, read from the copy of its list kept for operators
     * ({@code <fn>-<i>.held-view}, given back unchanged; the owner's own list is never touched).
     */
    public synchronized List<HeldKeys> held(FunctionDescription fn) throws IOException, TimeoutException {
        List<HeldKeys> all = new ArrayList<>();
        for (int i = 0; i < fn.partitions(); i++) {
            String list = names.heldKeysView(fn.name(), i);
            Channel ch = channel();
            try {
                try {
                    ch.queueDeclarePassive(list);
                } catch (IOException e) {
                    all.add(new HeldKeys(names.partition(fn.name(), i), List.of())); // never held a key
                    continue;
                }
                all.add(new HeldKeys(names.partition(fn.name(), i), HeldKeysList.read(ch, list, JSON).keys()));
            } finally {
                Broker.closeQuietly(ch); // what was read goes back, in order
            }
        }
        return all;
    }

    /** The replayed copy: same id, body and type; failure history dropped; replay counted; accepted now. */
    static AMQP.BasicProperties replayed(AMQP.BasicProperties original) {
        return original.builder().headers(DeadLetterFormat.replayed(original)).deliveryMode(2).expiration(null).build();
    }

    private Channel channel() throws IOException, TimeoutException {
        if (connection == null || !connection.isOpen()) {
            if (connection != null) {
                connection.abort();
            }
            connection = broker.open("eventline-admin");
        }
        return connection.createChannel();
    }

    public synchronized void close() {
        if (connection != null) {
            connection.abort();
            connection = null;
        }
    }
}
