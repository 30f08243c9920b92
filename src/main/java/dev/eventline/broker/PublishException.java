package dev.eventline.broker;

/**
 * A publish that the broker did not confirm. Every kind means: not accepted; all but {@link Kind#UNPUBLISHABLE}
 * are safe to retry later as they are.
 */
public class PublishException extends RuntimeException {

    public enum Kind {
        /** no connection, or the channel closed before the confirm arrived */
        UNAVAILABLE,
        /** the broker nacked the message (e.g. a partition queue at its length cap, overflow reject-publish) */
        REFUSED,
        /** no queue is bound to the exchange for this message (mandatory publish returned) */
        UNROUTABLE,
        /** too many publishes await confirms in this process */
        SATURATED,
        /** the client could not encode the message (e.g. a routing key over 255 bytes): it never left */
        UNPUBLISHABLE
    }

    private final Kind kind;

    public PublishException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
