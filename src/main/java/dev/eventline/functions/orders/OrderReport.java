package dev.eventline.functions.orders;

/**
 * What the order lifecycle has seen since start.
 *
 * @param tracked    orders in memory
 * @param applied    events applied in order
 * @param shipped    orders that reached {@code shipped}
 * @param duplicates events seen again (same id as the order's last applied event) and ignored
 * @param violations events that broke an order's sequence or lifecycle (ordering violations)
 */
public record OrderReport(long tracked, long applied, long shipped, long duplicates, long violations) {
}
