package dev.eventline.functions.notifications;

/**
 * A notification event that can never be handled (a recipient or id too large to keep): listed in
 * {@code functions/notifications}' {@code retry.nonRetryable}, so the trigger dead-letters it at once.
 */
public class NotificationRejectedException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public NotificationRejectedException(String message) {
        super(message);
    }
}
