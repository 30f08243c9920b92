package dev.eventline.functions.orders;

import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.LongAdder;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * The order state machine: {@code created -> item-added* -> paid -> shipped}, with a version that grows by
 * one per event. An event whose version is not the next one, or whose transition is not allowed, is an
 * ordering violation: it is counted and logged, and the order does not move. An event with the id of the
 * order's last applied event is a redelivered duplicate (at-least-once) and is ignored. Orders are kept in
 * memory, at most {@code orders.max-tracked}; shipped orders are forgotten first when the limit is reached.
 */
@ApplicationScoped
public class OrderLifecycle {

    private static final Logger LOG = Logger.getLogger(OrderLifecycle.class);

    public enum Status {
        CREATED, PAID, SHIPPED
    }

    /** One order's state; guarded by the order's partition (one event at a time per key). */
    public static final class Order {
        volatile Status status;
        volatile long version;
        volatile String lastEventId;
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
    private final LongAdder applied = new LongAdder();
    private final LongAdder shipped = new LongAdder();
    private final LongAdder duplicates = new LongAdder();
    private final LongAdder violations = new LongAdder();
    private final int maxTracked;

    public OrderLifecycle(@ConfigProperty(name = "orders.max-tracked", defaultValue = "200000") int maxTracked) {
        this.maxTracked = maxTracked;
    }

    public void apply(String type, String eventId, OrderEvent event) {
        if (event == null || event.orderId() == null) {
            throw new IllegalArgumentException("order event without orderId");
        }
        Order order = orders.get(event.orderId());
        if (order == null) {
            if (!"order.created".equals(type)) {
                violation(event, type, "unknown order");
                return;
            }
            makeRoom();
            order = orders.computeIfAbsent(event.orderId(), id -> new Order());
        }
        if (eventId.equals(order.lastEventId)) {
            duplicates.increment();
            return;
        }
        Status next = next(order.status, type);
        if (next == null || event.version() != order.version + 1) {
            order.violations++;
            violation(event, type, "at version " + order.version + " in status " + order.status);
            return;
        }
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
        LOG.warnf("ordering violation: order %s got %s version %d %s", event.orderId(), type, event.version(), state);
    }

    private void makeRoom() {
        while (orders.size() >= maxTracked) {
            String old = shippedOrder.poll();
            if (old == null) {
                throw new IllegalStateException("tracking " + orders.size()
                        + " open orders, the limit (orders.max-tracked); none can be forgotten");
            }
            orders.remove(old);
        }
    }

    /** @return the order's state, or null when it is not tracked */
    public Order order(String orderId) {
        return orders.get(orderId);
    }

    public OrderReport report() {
        return new OrderReport(orders.size(), applied.sum(), shipped.sum(), duplicates.sum(), violations.sum());
    }
}
