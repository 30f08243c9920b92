package dev.eventline.functions.orders;

/**
 * Data of every {@code order.*} event.
 *
 * @param orderId the order (also the event's partition key)
 * @param version the order's version after this event: 1 for {@code order.created}, then +1 per event
 * @param sku     the item, for {@code order.item-added}
 * @param amount  the amount paid, for {@code order.paid}
 */
public record OrderEvent(String orderId, long version, String sku, Long amount) {
}
