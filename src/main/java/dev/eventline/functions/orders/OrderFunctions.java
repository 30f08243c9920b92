package dev.eventline.functions.orders;

import jakarta.inject.Inject;

import io.quarkus.funqy.Context;
import io.quarkus.funqy.Funq;
import io.quarkus.funqy.knative.events.CloudEvent;
import io.quarkus.funqy.knative.events.CloudEventMapping;

/** The order lifecycle function ({@code functions/orders/}): one method per event type. */
public class OrderFunctions {

    @Inject
    OrderLifecycle lifecycle;

    @Funq
    @CloudEventMapping(trigger = "order.created")
    public void orderCreated(OrderEvent data, @Context CloudEvent<?> event) {
        lifecycle.apply(event.type(), event.id(), data);
    }

    @Funq
    @CloudEventMapping(trigger = "order.item-added")
    public void orderItemAdded(OrderEvent data, @Context CloudEvent<?> event) {
        lifecycle.apply(event.type(), event.id(), data);
    }

    @Funq
    @CloudEventMapping(trigger = "order.paid")
    public void orderPaid(OrderEvent data, @Context CloudEvent<?> event) {
        lifecycle.apply(event.type(), event.id(), data);
    }

    @Funq
    @CloudEventMapping(trigger = "order.shipped")
    public void orderShipped(OrderEvent data, @Context CloudEvent<?> event) {
        lifecycle.apply(event.type(), event.id(), data);
    }

    /** What the lifecycle has seen: {@code GET /orderReport}. */
    @Funq
    public OrderReport orderReport() {
        return lifecycle.report();
    }
}
