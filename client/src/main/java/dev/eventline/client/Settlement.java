package dev.eventline.client;

import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BiConsumer;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Where an event leaves the client: delivered (counted) or rejected (counted, logged at WARN without the
 * payload, and handed to the rejection handler). An event is settled once: the buffer tells whether it still
 * held it.
 */
final class Settlement {

    private static final System.Logger LOG = System.getLogger(EventlineClient.class.getName());

    private final KeyedBuffer buffer;
    private final BiConsumer<List<ObjectNode>, String> onRejected;
    final LongAdder delivered = new LongAdder();
    final LongAdder rejected = new LongAdder();
    final LongAdder throttled = new LongAdder();
    final LongAdder unavailable = new LongAdder();

    Settlement(KeyedBuffer buffer, BiConsumer<List<ObjectNode>, String> onRejected) {
        this.buffer = buffer;
        this.onRejected = onRejected;
    }

    void delivered(List<Pending> events) {
        List<Pending> settled = settled(events);
        delivered.add(settled.size());
        buffer.release(settled);
    }

    void rejected(List<Pending> events, String reason) {
        List<Pending> settled = settled(events);
        handOver(settled, reason);
        buffer.release(settled);
    }

    /** Hands over every event still held (close gave up on them). */
    void rejectAllHeld(String reason) {
        List<Pending> left = buffer.drain();
        handOver(left, reason);
        buffer.release(left);
    }

    private List<Pending> settled(List<Pending> events) {
        List<Pending> settled = new ArrayList<>(events.size());
        for (Pending p : events) {
            if (buffer.settle(p)) {
                settled.add(p);
            }
        }
        return settled;
    }

    /** Rejects events that never entered the buffer, or were already taken out of it. */
    void handOver(List<Pending> events, String reason) {
        if (events.isEmpty()) {
            return;
        }
        rejected.add(events.size());
        LOG.log(Level.WARNING, "eventline client: {0} event(s) rejected, first id {1}: {2}", events.size(),
                events.get(0).id(), reason);
        try {
            onRejected.accept(events.stream().map(Pending::event).toList(), reason);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "eventline client: the rejection handler failed: {0}", e.toString());
        }
    }
}
