package dev.eventline.functions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import dev.eventline.functions.orders.OrderEvent;
import dev.eventline.functions.orders.OrderLifecycle;
import dev.eventline.functions.orders.OrderRejectedException;
import dev.eventline.functions.orders.OrderReport;

/** The order lifecycle detects what the pipeline must never do: reorder, skip or repeat events of one order. */
class OrderLifecycleTest {

    private static final long ROOMY = 1L << 30;
    private final OrderLifecycle lifecycle = new OrderLifecycle(3, 2048, ROOMY);

    private void apply(String type, String order, long version) {
        lifecycle.apply(type, order + "-v" + version, new OrderEvent(order, version, null, null));
    }

    @Test
    void appliesALifecycleInOrder() {
        apply("order.created", "a", 1);
        apply("order.item-added", "a", 2);
        apply("order.paid", "a", 3);
        apply("order.shipped", "a", 4);
        assertEquals(OrderLifecycle.Status.SHIPPED, lifecycle.order("a").status());
        assertEquals(new OrderReport(1, 4, 1, 0, 0), lifecycle.report());
    }

    @Test
    void countsOutOfOrderAndMissingEventsAsViolations() {
        apply("order.paid", "b", 2); // before created
        apply("order.created", "b", 1);
        apply("order.shipped", "b", 3); // not paid yet
        apply("order.paid", "b", 3); // version 2 never applied: a gap
        assertEquals(3, lifecycle.report().violations());
        assertEquals(2, lifecycle.order("b").violations());
        assertEquals(1, lifecycle.order("b").version());
    }

    @Test
    void ignoresARedeliveredEvent() {
        apply("order.created", "c", 1);
        apply("order.created", "c", 1);
        assertEquals(1, lifecycle.report().duplicates());
        assertEquals(0, lifecycle.report().violations());
    }

    @Test
    void ignoresEventsRedeliveredAfterLaterOnesWereApplied() {
        apply("order.created", "r", 1);
        apply("order.item-added", "r", 2);
        apply("order.paid", "r", 3);
        apply("order.item-added", "r", 2); // a crash lost the acks of versions 2 and 3: both come again
        apply("order.paid", "r", 3);
        apply("order.shipped", "r", 4);
        assertEquals(2, lifecycle.report().duplicates());
        assertEquals(0, lifecycle.report().violations());
        assertEquals(OrderLifecycle.Status.SHIPPED, lifecycle.order("r").status());
    }

    @Test
    void forgetsShippedOrdersFirstAndRefusesWhenOnlyOpenOrdersRemain() {
        for (String order : new String[] { "d", "e" }) {
            apply("order.created", order, 1);
            apply("order.paid", order, 2);
            apply("order.shipped", order, 3);
        }
        apply("order.created", "f", 1);
        apply("order.created", "g", 1); // the limit is 3: a shipped order makes room
        assertEquals(3, lifecycle.report().tracked());
        apply("order.created", "h", 1);
        IllegalStateException full = assertThrows(IllegalStateException.class, () -> apply("order.created", "i", 1));
        assertEquals(true, full.getMessage().contains("orders.max-tracked"));
    }

    @Test
    void refusesForGoodAnOrderLargerThanOneOrderMayBeAndKeepsNothingOfIt() {
        String huge = "o".repeat(8 * 1024 * 1024);
        OrderRejectedException e = assertThrows(OrderRejectedException.class,
                () -> lifecycle.apply("order.created", "h-v1", new OrderEvent(huge, 1, null, null)));
        assertTrue(e.getMessage().contains("orders.max-order-bytes") && e.getMessage().length() < 300, e.getMessage());
        assertThrows(OrderRejectedException.class,
                () -> lifecycle.apply("order.created", "x".repeat(2000), new OrderEvent("small", 1, null, null)));
        assertEquals(0, lifecycle.bytes());
        assertEquals(0, lifecycle.report().tracked());
    }

    @Test
    void countsTheBytesOfEveryTrackedOrderAndForgetsShippedOrdersToStayWithinThem() {
        long max = 20_000;
        OrderLifecycle bounded = new OrderLifecycle(1_000_000, 2048, max);
        String longId = "o".repeat(800); // about 1,760 bytes an order with its last event id
        for (int o = 0; o < 40; o++) {
            String order = longId + o;
            for (String[] step : new String[][] { { "order.created", "1" }, { "order.paid", "2" }, { "order.shipped", "3" } }) {
                long version = Long.parseLong(step[1]);
                bounded.apply(step[0], "e" + o + "-v" + version, new OrderEvent(order, version, null, null));
                assertTrue(bounded.bytes() <= max, bounded.bytes() + " bytes at order " + o);
            }
        }
        assertTrue(bounded.report().tracked() < 40 && bounded.report().tracked() >= 10, bounded.report().toString());
        assertEquals(120, bounded.report().applied());
        // only open orders left: a new one is refused (retryably) rather than stretching the bound
        OrderLifecycle full = new OrderLifecycle(1_000_000, 2048, 5_000);
        full.apply("order.created", "a-v1", new OrderEvent(longId + "a", 1, null, null));
        full.apply("order.created", "b-v1", new OrderEvent(longId + "b", 1, null, null));
        IllegalStateException refused = assertThrows(IllegalStateException.class,
                () -> full.apply("order.created", "c-v1", new OrderEvent(longId + "c", 1, null, null)));
        assertTrue(refused.getMessage().contains("orders.max-bytes 5000"), refused.getMessage());
        assertTrue(full.bytes() <= 5_000, String.valueOf(full.bytes()));
    }
}
