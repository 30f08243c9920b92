package dev.eventline.fault;

/**
 * Thrown by a handler when its event can never succeed (a business rule rejects it, a referenced entity
 * does not exist): the trigger dead-letters the event at once instead of retrying it. A function can also
 * list its own exception classes under {@code retry.nonRetryable} in its description.
 */
public class NonRetryableException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public NonRetryableException(String message) {
        super(message);
    }

    public NonRetryableException(String message, Throwable cause) {
        super(message, cause);
    }
}
