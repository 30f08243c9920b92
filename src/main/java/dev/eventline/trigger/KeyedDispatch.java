package dev.eventline.trigger;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.BooleanSupplier;

import org.jboss.logging.Logger;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.GetResponse;

import dev.eventline.broker.EventCodec;
import dev.eventline.broker.Headers;
import dev.eventline.metrics.PipelineMetrics;

/**
 * Key concurrency in one partition consumer: up to {@code keyConcurrency} handler calls at once, never two of
 * the same partition key, and the events of one key called in the order the queue delivered them. A delivery
 * whose key has a call in progress waits behind it; one whose key is free waits for a free call, first come
 * first served. Everything waiting is in the consumer's window (unacked), so what waits is bounded by
 * {@code prefetch}. An event that ends its call unsettled (the consumer is stopping, or its channel ended)
 * stops the consumer: nothing after it, of its key or any other, starts here, and the broker gives back every
 * unacked event, in queue order.
 * <p>
 * The key is the gate's {@code eventline-partition-key} header, the key the partition was chosen by; a
 * message without one is ordered with every other message without one.
 * <p>
 * Parked mode ({@code retry.mode: parked}) also keeps a failing key's later events out of the window. Once an
 * event's call fails and it is to be retried, its key is <em>held</em>: the events waiting behind it, and every
 * later one of the key, are parked in the key's own queue ({@link KeyParking}), one at a time and in order, each
 * acked once its copy is stored. When the held event is done (applied, or dead-lettered with
 * {@code afterDeadLetter: proceed}), the thread that ran it <em>drains</em> the key: it calls the parked events
 * one by one, oldest first, the key's new arrivals still parked behind them, until none is left; only then is the
 * key free again. A key whose event was dead-lettered with {@code afterDeadLetter: hold} stays held until that
 * event comes back (a replay) or a purge releases it. Which keys are held, and why, is written to the partition's
 * list before the ack of the event that changed it, so the next owner of the partition starts from it.
 */
final class KeyedDispatch {

    private static final Logger LOG = Logger.getLogger(KeyedDispatch.class);
    /** Header of a message that releases a key held after a dead letter (the admin's purge); its id is the head's. */
    static final String RELEASE = dev.eventline.broker.HeldKeysList.RELEASE;

    /** A delivery and its key; a null delivery drains the key (a restored key whose parked events wait). */
    private record Pending(String key, Delivery unread) {
    }

    /** What runs the events. */
    interface Calls {
        /** Handles one delivery of the window to the end (its call, retries, dead-lettering), on a worker thread. */
        void handle(Delivery unread);

        /**
         * Handles one parked event, taken unacked on {@code ch}, to the end; it is settled by an ack on {@code ch}.
         *
         * @return whether it was settled
         */
        boolean handleParked(Channel ch, Delivery unread);
    }

    /** A held key (parked mode); guarded by the dispatch. */
    private static final class Hold {
        KeyParking.State state;
        String head;
        String reason;
        final long since;
        /** Whether the head event came from the key's parked queue (a drain's). */
        boolean parkedHead;
        /** Id of the head event whose copy leads the parked queue, to be skipped once it is done; or null. */
        String copied;
        /** Events stored in the parked queue so far: a drain that found it empty frees the key only if unchanged. */
        long stored;
        /** Whether its arrivals are parked: false until the list naming it is stored. */
        boolean routing;
        /** Arrivals waiting to be parked, in order (in the window: unacked). */
        final ArrayDeque<Pending> lane = new ArrayDeque<>();
        /** A parker publishes the lane. */
        boolean parking;

        Hold(KeyParking.State state, String head, String reason, long since) {
            this.state = state;
            this.head = head;
            this.reason = reason;
            this.since = since;
        }
    }

    private final int limit;
    private final Executor workers;
    private final PartitionCalls calls;
    private final KeyedAcks acks;
    private final Calls handle;
    /** Whether calls may start: the consumer is not stopping and can still settle. */
    private final BooleanSupplier open;
    /** Stops the consumer: an event ended unsettled. */
    private final Runnable halt;

    /** Keys with a call in progress or waiting for one → their later deliveries, in order; guarded by this. */
    private final Map<String, ArrayDeque<Pending>> behind = new HashMap<>();
    /** Deliveries whose key is free, waiting for a call, in arrival order; guarded by this. */
    private final ArrayDeque<Pending> ready = new ArrayDeque<>();
    /** Calls of this consumer in progress; guarded by this. */
    private int running;

    /** Parked mode: the broker side, whether a dead letter holds its key, and the held keys; null otherwise. */
    private final KeyParking parking;
    private final boolean holdAfterDeadLetter;
    private final Map<String, Hold> holds = new HashMap<>();
    private final PipelineMetrics metrics;
    private final String function;
    /** Whether the held keys' cap was reported. */
    private boolean capReported;
    /** Channels parked events are being taken on (one per draining key), closed when the consumer stops. */
    private final java.util.Set<Channel> drains = new java.util.HashSet<>();
    /**
     * Purges' releases that came while their key was not (yet) held for that event, by key: a dead letter whose
     * copy is stored but whose hold is not yet may be purged at once. Bounded, oldest first out.
     */
    private final Map<String, String> releases = new java.util.LinkedHashMap<>() {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
            return size() > 1000;
        }
    };

    KeyedDispatch(int limit, Executor workers, PartitionCalls calls, KeyedAcks acks, Calls handle,
            BooleanSupplier open, Runnable halt) {
        this(limit, workers, calls, acks, handle, open, halt, null, false, null, null);
    }

    KeyedDispatch(int limit, Executor workers, PartitionCalls calls, KeyedAcks acks, Calls handle,
            BooleanSupplier open, Runnable halt, KeyParking parking, boolean holdAfterDeadLetter,
            PipelineMetrics metrics, String function) {
        this.limit = limit;
        this.workers = workers;
        this.calls = calls;
        this.acks = acks;
        this.handle = handle;
        this.open = open;
        this.halt = halt;
        this.parking = parking;
        this.holdAfterDeadLetter = holdAfterDeadLetter;
        this.metrics = metrics;
        this.function = function;
    }

    /**
     * Parked mode, before the first delivery: the keys the partition's list holds; those that were draining
     * start draining.
     */
    void restore(List<KeyParking.Held> held) {
        List<Pending> start;
        synchronized (this) {
            for (KeyParking.Held h : held) {
                Hold hold = new Hold(h.state(), h.head(), h.reason(), h.since());
                hold.routing = true;
                hold.copied = h.copied();
                holds.put(h.key(), hold);
                metrics.heldKeys(function, 1);
                if (h.state() == KeyParking.State.DRAINING) {
                    behind.put(h.key(), new ArrayDeque<>());
                    ready.add(new Pending(h.key(), null));
                }
            }
            start = startable();
        }
        start.forEach(this::launch);
    }

    /** The key a message is ordered by: its partition key, "" when it carries none. */
    static String keyOf(AMQP.BasicProperties properties) {
        String key = Headers.text(properties, EventCodec.PARTITION_KEY);
        return key == null ? "" : key;
    }

    /**
     * A delivery arrived (the channel's delivery thread, which it never blocks): it starts now, or waits behind
     * its key, for a call, or for a call of its key by one of the partition's earlier consumers to end.
     */
    void arrived(Delivery unread, String key) {
        acks.delivered(unread.tag(), EventCodec.acceptedAt(unread.properties()));
        List<Pending> start;
        boolean release = parking != null && Headers.text(unread.properties(), RELEASE) != null;
        synchronized (this) {
            Pending p = new Pending(key, unread);
            Hold hold = holds.get(key);
            boolean awaited = hold != null && hold.state == KeyParking.State.HELD && hold.head != null
                    && hold.head.equals(unread.properties().getMessageId());
            if (release && !(awaited && hold.routing)) {
                // not held for that event: nothing to do but ack it, and remember it in case the hold is being
                // stored right now (its dead letter purged at once)
                releases.put(key, Headers.text(unread.properties(), RELEASE));
                start = null;
            } else if (hold != null && hold.routing && !awaited) {
                hold.lane.add(p); // behind the held key's parked events (its held event itself runs: a replay)
                startParker(key, hold);
                return;
            } else {
                ArrayDeque<Pending> waiting = behind.get(key);
                if (waiting != null) {
                    waiting.add(p);
                    // it waits for its own key, not for the partition: not in the partition's lag meanwhile, so
                    // one slow key does not make the gate slow down every producer
                    acks.resting(unread.tag(), true);
                    return;
                }
                behind.put(key, new ArrayDeque<>());
                ready.add(p);
                start = startable();
            }
        }
        if (start == null) {
            try {
                acks.parked(unread.tag());
            } catch (java.io.IOException | RuntimeException e) {
                LOG.debugf("function %s: ack of a release failed (%s); it comes back", function, e.toString());
            }
            return;
        }
        start.forEach(this::launch);
    }

    /** @return the deliveries to start now, counted as running; guarded by this */
    private List<Pending> startable() {
        List<Pending> start = new ArrayList<>();
        while (running < limit && !ready.isEmpty() && open.getAsBoolean()) {
            Pending p = ready.poll();
            if (calls.begin(p.key(), () -> freed(p))) {
                start.add(p);
                running++;
            } else if (p.unread() != null) {
                // an earlier consumer's call of its key still runs: it waits for that call to end, holding its
                // key only, so it does not count in the partition's lag meanwhile
                acks.resting(p.unread().tag(), true);
            }
        }
        return start;
    }

    /** An earlier consumer's call of the pending event's key has ended: it waits for a call again, first. */
    private void freed(Pending p) {
        List<Pending> start;
        synchronized (this) {
            if (p.unread() != null) {
                acks.resting(p.unread().tag(), false); // under this lock, as in startable: never after its mark
            }
            ready.addFirst(p);
            start = startable();
        }
        start.forEach(this::launch);
    }

    private void launch(Pending p) {
        try {
            workers.execute(() -> run(p));
        } catch (RejectedExecutionException e) {
            calls.end(p.key()); // the function is stopping: the event stays unacked and comes back
            halt.run();
            synchronized (this) {
                running--;
                notifyAll();
            }
        }
    }

    private void run(Pending p) {
        long begun = System.nanoTime();
        try {
            if (p.unread() != null) {
                handle.handle(p.unread());
                if (parking != null && stillFailing(p) && open.getAsBoolean()) {
                    // its call ended unsettled (a failure no rule foresaw) while its copy, acked, leads its queue:
                    // the partition is taken anew, and its next consumer drains the key from that copy
                    halt.run();
                    return;
                }
            }
            if (parking != null) {
                drain(p.key());
            }
        } finally {
            calls.end(p.key());
            ended(p, System.nanoTime() - begun);
        }
    }

    /** A call ended: the next event of its key, if any, waits for a call; free calls start. */
    private void ended(Pending p, long nanos) {
        if (p.unread() != null && !acks.finished(p.unread().tag(), nanos)) {
            halt.run(); // nothing after it may overtake it: the broker gives it back, with the rest, in order
        }
        List<Pending> start;
        synchronized (this) {
            running--;
            ArrayDeque<Pending> waiting = behind.get(p.key());
            Pending next = waiting == null ? null : waiting.poll();
            if (next != null) {
                acks.resting(next.unread().tag(), false);
                ready.add(next);
            } else {
                behind.remove(p.key());
            }
            start = startable();
            notifyAll();
        }
        start.forEach(this::launch);
    }

    /**
     * Parked mode: the event's call failed and it will be tried again here. Its key is held from now on: once
     * the list naming it is stored, the events waiting behind it and every later one of its key are parked.
     * Should the list not be stored, or the partition hold {@link KeyParking#MAX_HELD} keys already, they wait in
     * the window instead, as in strict mode.
     */
    void failing(String key, Delivery head, String reason, boolean parkedHead) {
        if (parking != null) {
            hold(key, KeyParking.State.FAILING, head.properties().getMessageId(), reason, false, parkedHead,
                    parkedHead ? null : head);
        }
    }

    /**
     * Holds the key for its event {@code head}: once the list naming it is stored, the events waiting behind
     * it and every later one of its key are parked.
     *
     * @param mustStore whether to keep trying to store the list until the consumer stops (a dead letter's hold,
     *                  which must be stored before its ack) rather than once
     * @return false only when the list had to be stored and could not be before the consumer stopped
     */
    private boolean hold(String key, KeyParking.State state, String head, String reason, boolean mustStore,
            boolean parkedHead, Delivery window) {
        Hold hold;
        synchronized (this) {
            hold = holds.get(key);
            if (hold != null) {
                if (hold.state == state && Objects.equals(hold.head, head)) {
                    return true; // a later attempt of the same event
                }
                hold.state = state;
                hold.head = head;
                hold.reason = reason;
                hold.parkedHead = parkedHead;
            } else {
                if (holds.size() >= KeyParking.MAX_HELD) {
                    if (!capReported) {
                        capReported = true;
                        LOG.warnf("function %s: %d keys of one partition are held; the later events of another "
                                + "failing key wait in the window, as in strict mode", function, KeyParking.MAX_HELD);
                    }
                    return true;
                }
                hold = new Hold(state, head, reason, System.currentTimeMillis());
                hold.parkedHead = parkedHead;
                if (window != null && head != null) {
                    // the failing event itself is parked first: retrying, it would hold back every ack of the
                    // partition behind it (acks with multiple cannot skip it)
                    hold.copied = head;
                }
                holds.put(key, hold);
                metrics.heldKeys(function, 1);
            }
        }
        boolean stored = mustStore ? store() : parking.write(this::list);
        synchronized (this) {
            if (!stored) {
                if (!hold.routing && holds.remove(key, hold)) {
                    metrics.heldKeys(function, -1); // its events wait in the window; the next failure tries again
                }
                return !mustStore;
            }
            if (!hold.routing) {
                hold.routing = true;
                if (hold.copied != null && window != null) {
                    hold.lane.add(new Pending(key, window));
                }
                ArrayDeque<Pending> waiting = behind.get(key);
                if (waiting != null) {
                    hold.lane.addAll(waiting);
                    waiting.clear();
                }
                startParker(key, hold);
            }
        }
        LOG.infof("function %s: key held (%s) for event %s; its later events are parked", function,
                state.name().toLowerCase(java.util.Locale.ROOT), head);
        return true;
    }

    /**
     * Parked mode: the event is done here (applied, skipped as a duplicate, or dead-lettered), and about to be
     * acked. If its key was held for it, the key now drains its parked events, or (dead-lettered, with
     * {@code afterDeadLetter: hold}) stays held until the event comes back or is purged; a key dead-lettered
     * with that setting is held from now on. The list says so before the ack.
     *
     * @return false when the list could not be stored before the consumer stopped: the event must stay unacked
     */
    boolean done(String key, String id, boolean deadLettered, String reason) {
        if (parking == null) {
            return true;
        }
        boolean holdIt = deadLettered && holdAfterDeadLetter;
        String why = "dead-lettered: " + reason + "; held until it is replayed or purged";
        synchronized (this) {
            if (holdIt && id != null && id.equals(releases.get(key))) {
                releases.remove(key);
                holdIt = false; // purged already: the key goes on
            }
            Hold hold = holds.get(key);
            if (hold == null || !hold.routing) {
                if (!holdIt) {
                    return true;
                }
            } else if (holdIt) {
                // whichever event of the key it is (the held one, or a parked one dead-lettered at its first call):
                // only one call of a key runs, and the key now waits for this one
                hold.state = KeyParking.State.HELD;
                hold.head = id;
                hold.reason = why;
                hold.parkedHead = false;
                holdIt = false; // held already: only its new state is to be stored
            } else if (!Objects.equals(hold.head, id)) {
                return true;
            } else {
                hold.state = KeyParking.State.DRAINING;
                hold.parkedHead = false;
            }
        }
        return holdIt ? hold(key, KeyParking.State.HELD, id, why, true, false, null) : store();
    }

    /**
     * Parked mode: a purge's release of a key held after its dead letter {@code id}; the key drains next.
     *
     * @return false when the list could not be stored before the consumer stopped: the release must stay unacked
     */
    boolean release(String key, String id) {
        if (parking == null) {
            return true;
        }
        synchronized (this) {
            Hold hold = holds.get(key);
            if (hold == null || hold.state != KeyParking.State.HELD || !Objects.equals(hold.head, id)) {
                return true; // not held for that event (any more)
            }
            hold.state = KeyParking.State.DRAINING;
            hold.reason = "released by a purge of " + id;
        }
        LOG.infof("function %s: a held key is released by the purge of its dead letter %s", function, id);
        return store();
    }

    /** Writes the list until it is stored, or the consumer stops. */
    private boolean store() {
        for (int tries = 0;; tries++) {
            if (parking.write(this::list)) {
                return true;
            }
            if (!open.getAsBoolean()) {
                return false;
            }
            if (tries % 10 == 0) {
                LOG.warnf("function %s: the list of held keys cannot be stored; trying again", function);
            }
            synchronized (this) {
                PartitionCalls.awaitOn(this, () -> !open.getAsBoolean(), java.time.Duration.ofMillis(500));
            }
        }
    }

    /** @return the held keys, for the partition's list */
    synchronized List<KeyParking.Held> list() {
        List<KeyParking.Held> list = new ArrayList<>();
        holds.forEach((key, h) -> list.add(new KeyParking.Held(key, h.state, h.head, h.reason, h.since, h.parkedHead,
                h.copied)));
        return list;
    }

    /** Publishes the held key's lane to its parked queue, one event at a time, in order; guarded by this. */
    private void startParker(String key, Hold hold) {
        if (hold.parking || hold.lane.isEmpty()) {
            return;
        }
        hold.parking = true;
        try {
            workers.execute(() -> park(key, hold));
        } catch (RejectedExecutionException e) {
            hold.parking = false; // the function is stopping: the lane stays unacked and comes back in order
        }
    }

    private void park(String key, Hold hold) {
        int failures = 0;
        for (;;) {
            Pending p;
            synchronized (this) {
                p = hold.lane.peek();
                if (p == null || !open.getAsBoolean()) {
                    hold.parking = false; // what is left stays unacked: the broker gives it back, in order
                    notifyAll();
                    return;
                }
            }
            KeyParking.Parked outcome = parking.park(key, p.unread().properties(), p.unread().body());
            if (outcome == KeyParking.Parked.STORED) {
                synchronized (this) {
                    hold.lane.poll();
                    hold.stored++;
                }
                metrics.parked(function);
                try {
                    acks.parked(p.unread().tag());
                } catch (java.io.IOException | RuntimeException e) {
                    LOG.debugf("function %s: ack of a parked event failed (%s); its copy is skipped as a duplicate",
                            function, e.toString());
                }
                failures = 0;
                continue;
            }
            if (failures++ % 10 == 0) {
                LOG.warnf("function %s: a held key's event could not be parked (%s); it stays in the window and is "
                        + "parked again%s", function, outcome,
                        outcome == KeyParking.Parked.FULL ? " (the key's parked queue is full)" : "");
            }
            synchronized (this) {
                PartitionCalls.awaitOn(this, () -> !open.getAsBoolean(),
                        java.time.Duration.ofMillis(outcome == KeyParking.Parked.FULL ? 2000 : 200));
            }
        }
    }

    /**
     * Calls the draining key's parked events, oldest first, on the thread that holds the key's call, until
     * none is left and none waits to be parked: then the key is free. Stops when the key is held again (an event
     * dead-lettered with {@code afterDeadLetter: hold}), or the consumer stops; an event left unsettled while the
     * consumer runs on halts it, so the next consumer of the partition drains the key from its list.
     */
    private void drain(String key) {
        if (!draining(key)) {
            return;
        }
        Channel ch = null;
        try {
            for (;;) {
                if (!open.getAsBoolean()) {
                    return;
                }
                if (ch == null || !ch.isOpen()) {
                    ch = openDrain(ch);
                }
                long stored;
                synchronized (this) {
                    stored = holds.get(key).stored;
                }
                GetResponse r = parking.take(ch, key);
                if (r != null && skipCopy(key, r.getProps().getMessageId())) {
                    // the done head's copy: the list stops naming it first, so that no later owner skips a
                    // replay of that event by its id
                    if (!store()) {
                        return; // stopping: the copy goes back to the queue's head, still named
                    }
                    ch.basicAck(r.getEnvelope().getDeliveryTag(), false);
                    continue;
                }
                if (r != null) {
                    Delivery unread = Delivery.unread(r.getEnvelope().getDeliveryTag(), r.getEnvelope().isRedeliver(),
                            r.getProps(), r.getBody());
                    if (!handle.handleParked(ch, unread)) {
                        if (open.getAsBoolean()) {
                            halt.run();
                        }
                        return;
                    }
                    if (!draining(key)) {
                        return; // held again
                    }
                    continue;
                }
                synchronized (this) {
                    Hold hold = holds.get(key);
                    if (hold == null) {
                        return; // not held (cannot happen: only a drain frees its key)
                    }
                    if (hold.lane.isEmpty() && !hold.parking && hold.stored == stored) {
                        holds.remove(key);
                        metrics.heldKeys(function, -1);
                        break;
                    }
                    // the key's latest arrivals are being parked, or one was stored since the queue was found
                    // empty: take them next
                    PartitionCalls.awaitOn(this, () -> hold.lane.isEmpty() && !hold.parking || !open.getAsBoolean(),
                            java.time.Duration.ofMillis(200));
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            LOG.warnf("function %s: draining a held key's parked events failed (%s); the partition is taken anew",
                    function, e.toString());
            if (open.getAsBoolean()) {
                halt.run();
            }
            return;
        } finally {
            if (ch != null) {
                closeDrain(ch);
            }
        }
        LOG.infof("function %s: a held key's parked events are done; it is free", function);
        store(); // until stored, or stopping: then the next owner finds its parked queue empty, free as well
        parking.deleteIfEmpty(key, () -> {
            synchronized (this) {
                return !holds.containsKey(key); // held again meanwhile: its queue is in use
            }
        });
    }

    /** @return a new channel to take parked events on (replacing {@code old}), closed when the consumer stops */
    private Channel openDrain(Channel old) throws java.io.IOException {
        if (old != null) {
            closeDrain(old);
        }
        Channel ch = parking.openTake();
        synchronized (this) {
            drains.add(ch);
            if (!open.getAsBoolean()) {
                drains.remove(ch);
                dev.eventline.broker.Broker.closeQuietly(ch);
                throw new java.io.IOException("the consumer stopped");
            }
        }
        return ch;
    }

    private void closeDrain(Channel ch) {
        synchronized (this) {
            drains.remove(ch);
        }
        dev.eventline.broker.Broker.closeQuietly(ch);
    }

    /**
     * Waits, at most {@code wait}, for the parkers to end (call after stopping the consumer: each ends after the
     * publish in progress), so that an event whose copy is stored is acked with the rest before the hand-over.
     *
     * @return whether none is left
     */
    synchronized boolean awaitParkers(java.time.Duration wait) {
        return PartitionCalls.awaitOn(this, () -> holds.values().stream().noneMatch(h -> h.parking), wait);
    }

    /**
     * The consumer stops (after waiting for its calls): the parked events still taken by drains go back to the
     * head of their queues before the partition is handed on, and its held keys no longer count here.
     */
    void stopped() {
        List<Channel> open;
        synchronized (this) {
            open = List.copyOf(drains);
            drains.clear();
            if (metrics != null && !holds.isEmpty()) {
                metrics.heldKeys(function, -holds.size());
                holds.clear();
            }
        }
        open.forEach(dev.eventline.broker.Broker::closeQuietly);
    }

    /** @return whether the key is still held for this delivery's failing event, taken from the window */
    private synchronized boolean stillFailing(Pending p) {
        Hold hold = holds.get(p.key());
        return hold != null && hold.state == KeyParking.State.FAILING && !hold.parkedHead && hold.head != null
                && hold.head.equals(p.unread().properties().getMessageId());
    }

    /** @return whether the parked event is the copy of the key's done head, to be skipped (once) */
    private synchronized boolean skipCopy(String key, String id) {
        Hold hold = holds.get(key);
        if (hold == null || hold.copied == null || !hold.copied.equals(id)) {
            return false;
        }
        hold.copied = null;
        return true;
    }

    private synchronized boolean draining(String key) {
        Hold hold = holds.get(key);
        return hold != null && hold.state == KeyParking.State.DRAINING;
    }

    /**
     * A call waits out a retry's backoff ({@code true}), or is about to try again: meanwhile it does not count
     * against {@code keyConcurrency}, so the partition's other keys keep every call (its key stays busy, and its
     * thread waits; on waking it counts again, beyond the limit until a call ends).
     */
    void resting(boolean resting) {
        List<Pending> start = List.of();
        synchronized (this) {
            running += resting ? -1 : 1;
            if (resting) {
                start = startable();
            }
            notifyAll();
        }
        start.forEach(this::launch);
    }

    /**
     * Waits, at most {@code wait}, for this consumer's calls in progress to end (call after stopping it).
     *
     * @return whether none is left
     */
    synchronized boolean awaitCalls(Duration wait) {
        return PartitionCalls.awaitOn(this, () -> running == 0, wait);
    }
}
