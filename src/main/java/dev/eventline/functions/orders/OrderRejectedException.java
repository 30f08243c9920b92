package dev.eventline.functions.orders;

/**
 * An order event that can never be applied (an order too large to keep): listed in {@code functions/orders}'
 * {@code retry.nonRetryable}, so the trigger dead-letters it at once instead of retrying.
 */
public class OrderRejectedException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public OrderRejectedException(String message) {
        super(message);
    }
}
