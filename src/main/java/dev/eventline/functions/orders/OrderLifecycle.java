package dev.eventline.functions.orders;

import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * The order state machine: {@code created -> item-added* -> paid -> shipped}, with a version that grows by
 * one per event. An event whose version is not the next one, or whose transition is not allowed, is an
 * ordering violation: it is counted and logged, and the order does not move. An event with the id of the
 * order's last applied event, or with a version the order has already passed, is a redelivered duplicate
 * (at-least-once: after a crash the next owner of a partition gets again the events applied since the last
 * batched ack) and is ignored. A reordering still shows: the later event arrives first, at a gap.
 * <p>
 * Orders are kept in memory, bounded by count ({@code orders.max-tracked}) and by estimated bytes
 * ({@code orders.max-bytes}; an order counts 2 bytes a character of its id and last event id, plus
 * {@value #ORDER_BYTES}): shipped orders are forgotten first when a bound is reached, and a new order is refused
 * (retryably) when only open orders remain. An order larger than {@code orders.max-order-bytes} on its own is
 * refused for good ({@link OrderRejectedException}, listed in the description's {@code retry.nonRetryable}).
 */
@ApplicationScoped
public class OrderLifecycle {

    private static final Logger LOG = Logger.getLogger(OrderLifecycle.class);
    /** Estimated heap of one tracked order besides the characters of its two ids: map entry, state, strings. */
    static final long ORDER_BYTES = 160;
    private static final int SHOWN = 40;

    public enum Status {
        CREATED, PAID, SHIPPED
    }

    /** One order's state; guarded by the order's partition (one event at a time per key). */
    public static final class Order {
        volatile Status status;
        volatile long version;
        volatile String lastEventId = "";
        volatile int items;
        volatile long violations;

        public Status status() {
            return status;
        }

        public long version() {
            return version;
        }

        public long violations() {
            return violations;
        }
    }

    private final Map<String, Order> orders = new ConcurrentHashMap<>();
    private final Queue<String> shippedOrder = new ConcurrentLinkedQueue<>();
    private final AtomicLong bytes = new AtomicLong();
    private final LongAdder applied = new LongAdder();
    private final LongAdder shipped = new LongAdder();
    private final LongAdder duplicates = new LongAdder();
    private final LongAdder violations = new LongAdder();
    private final int maxTracked;
    private final long maxOrderBytes;
    private final long maxBytes;

    @Inject
    public OrderLifecycle(@ConfigProperty(name = "orders.max-tracked", defaultValue = "200000") int maxTracked,
            @ConfigProperty(name = "orders.max-order-bytes", defaultValue = "2048") long maxOrderBytes,
            @ConfigProperty(name = "orders.max-bytes", defaultValue = "67108864") long maxBytes) {
        this.maxTracked = maxTracked;
        this.maxOrderBytes = maxOrderBytes;
        this.maxBytes = maxBytes;
    }

    /** @return the estimated bytes of an order with this id whose last applied event has this id */
    static long cost(String orderId, String eventId) {
        return ORDER_BYTES + 2L * (orderId.length() + eventId.length());
    }

    public void apply(String type, String eventId, OrderEvent event) {
        if (event == null || event.orderId() == null) {
            throw new IllegalArgumentException("order event without orderId");
        }
        checkSize(event.orderId(), eventId);
        Order order = orders.get(event.orderId());
        if (order == null) {
            if (!"order.created".equals(type)) {
                violation(event, type, "unknown order");
                return;
            }
            order = track(event.orderId());
        }
        if (eventId.equals(order.lastEventId) || event.version() <= order.version) {
            duplicates.increment();
            return;
        }
        Status next = next(order.status, type);
        if (next == null || event.version() != order.version + 1) {
            order.violations++;
            violation(event, type, "at version " + order.version + " in status " + order.status);
            return;
        }
        advance(event, eventId, order, next, type);
    }

    /** @throws OrderRejectedException when the order with this event's id would exceed orders.max-order-bytes */
    private void checkSize(String orderId, String eventId) {
        long cost = cost(orderId, eventId);
        if (cost > maxOrderBytes) {
            throw new OrderRejectedException("order " + shown(orderId) + " with event " + shown(eventId)
                    + " would take " + cost + " bytes; an order may take " + maxOrderBytes + " (orders.max-order-bytes)");
        }
    }

    private Order track(String orderId) {
        while (orders.size() >= maxTracked) {
            forgetOneShipped();
        }
        long cost = cost(orderId, "");
        reserve(cost);
        Order created = new Order();
        Order earlier = orders.putIfAbsent(orderId, created);
        if (earlier != null) { // the same order id under another partition key, at the same moment
            bytes.addAndGet(-cost);
            return earlier;
        }
        return created;
    }

    private void advance(OrderEvent event, String eventId, Order order, Status next, String type) {
        reserve(2L * (eventId.length() - order.lastEventId.length()));
        if ("order.item-added".equals(type)) {
            order.items++;
        }
        order.status = next;
        order.version = event.version();
        order.lastEventId = eventId;
        applied.increment();
        if (next == Status.SHIPPED) {
            shipped.increment();
            shippedOrder.add(event.orderId());
        }
    }

    private static Status next(Status current, String type) {
        return switch (type) {
            case "order.created" -> current == null ? Status.CREATED : null;
            case "order.item-added" -> current == Status.CREATED ? Status.CREATED : null;
            case "order.paid" -> current == Status.CREATED ? Status.PAID : null;
            case "order.shipped" -> current == Status.PAID ? Status.SHIPPED : null;
            default -> null;
        };
    }

    private void violation(OrderEvent event, String type, String state) {
        violations.increment();
        LOG.warnf("ordering violation: order %s got %s version %d %s", shown(event.orderId()), type, event.version(),
                state);
    }

    /** Adds delta to the counted bytes, first forgetting shipped orders while it would exceed orders.max-bytes. */
    private void reserve(long delta) {
        while (true) {
            long current = bytes.get();
            if (delta > 0 && current + delta > maxBytes) {
                forgetOneShipped();
            } else if (bytes.compareAndSet(current, current + delta)) {
                return;
            }
        }
    }

    /** @throws IllegalStateException when every tracked order is open (retried: shipping frees room) */
    private void forgetOneShipped() {
        String old = shippedOrder.poll();
        if (old == null) {
            throw new IllegalStateException("tracking " + orders.size() + " open orders of " + bytes.get()
                    + " bytes, the limit (orders.max-tracked " + maxTracked + ", orders.max-bytes " + maxBytes
                    + "); none can be forgotten");
        }
        Order gone = orders.remove(old);
        if (gone != null) {
            bytes.addAndGet(-cost(old, gone.lastEventId));
        }
    }

    private static String shown(String id) {
        return id.length() <= SHOWN ? id : id.substring(0, SHOWN) + "... (" + id.length() + " characters)";
    }

    /** @return the order's state, or null when it is not tracked */
    public Order order(String orderId) {
        return orders.get(orderId);
    }

    /** @return the estimated bytes of the tracked orders, at most {@code orders.max-bytes} */
    public long bytes() {
        return bytes.get();
    }

    public OrderReport report() {
        return new OrderReport(orders.size(), applied.sum(), shipped.sum(), duplicates.sum(), violations.sum());
    }
}
