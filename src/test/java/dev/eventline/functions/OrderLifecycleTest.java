package dev.eventline.functions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

import dev.eventline.functions.orders.OrderEvent;
import dev.eventline.functions.orders.OrderLifecycle;
import dev.eventline.functions.orders.OrderReport;

/** The order lifecycle detects what the pipeline must never do: reorder, skip or repeat events of one order. */
class OrderLifecycleTest {

    private final OrderLifecycle lifecycle = new OrderLifecycle(3);

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
}
