package dev.eventline.functions.notifications;

import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Pattern;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Sends notifications, honouring each recipient's opt-out in event order: a request processed after the
 * recipient's {@code notification.optout} is suppressed, one processed after {@code notification.optin} is
 * sent. Order per recipient therefore decides what is sent. A request is sent at most once per event id
 * (the last {@value #REMEMBERED} ids are remembered, at most {@code notifications.max-remembered-bytes} of them).
 * Invalid addresses fail, so they are retried and then dead-lettered. Sending goes to a log line here; a real
 * channel (SMTP, an SMS API) plugs in at {@link #send}.
 * <p>
 * Memory is bounded in estimated bytes (2 a character plus a fixed amount an entry): a recipient or event id
 * larger than {@code notifications.max-entry-bytes} is refused for good ({@link NotificationRejectedException},
 * listed in the description's {@code retry.nonRetryable}); opt-outs are never forgotten, so once they fill
 * {@code notifications.max-opt-out-bytes} a new one fails (and is retried, then dead-lettered) rather than
 * silently dropping another.
 */
@ApplicationScoped
public class NotificationSender {

    private static final Logger LOG = Logger.getLogger(NotificationSender.class);
    static final int REMEMBERED = 100_000;
    private static final int SHOWN = 40;
    private static final Pattern EMAIL = Pattern.compile("[^@\\s]+@[^@\\s]+");
    private static final Pattern PHONE = Pattern.compile("\\+?[0-9]{6,15}");

    private final Set<String> optedOut = new HashSet<>();
    private long optOutBytes;
    private final RecentIds seen;
    private final long maxEntryBytes;
    private final long maxOptOutBytes;
    private final LongAdder sent = new LongAdder();
    private final LongAdder suppressed = new LongAdder();
    private final LongAdder duplicates = new LongAdder();
    private final LongAdder preferenceChanges = new LongAdder();

    @Inject
    public NotificationSender(
            @ConfigProperty(name = "notifications.max-entry-bytes", defaultValue = "2048") long maxEntryBytes,
            @ConfigProperty(name = "notifications.max-remembered-bytes", defaultValue = "16777216") long maxRememberedBytes,
            @ConfigProperty(name = "notifications.max-opt-out-bytes", defaultValue = "67108864") long maxOptOutBytes) {
        this.maxEntryBytes = maxEntryBytes;
        this.maxOptOutBytes = maxOptOutBytes;
        this.seen = new RecentIds(REMEMBERED, maxRememberedBytes);
    }

    public void request(String eventId, Notification n) {
        if (n == null || n.recipient() == null) {
            throw new IllegalArgumentException("notification without recipient");
        }
        checkSize("event id", eventId);
        checkSize("recipient", n.recipient());
        if (!seen.add(eventId)) {
            duplicates.increment();
            return;
        }
        if (isOptedOut(n.recipient())) {
            suppressed.increment();
            return;
        }
        try {
            send(n);
        } catch (RuntimeException e) {
            seen.remove(eventId); // not sent: a retry must be able to send it
            throw e;
        }
        sent.increment();
    }

    public void optOut(String recipient) {
        checkSize("recipient", recipient);
        synchronized (optedOut) {
            long cost = RecentIds.cost(recipient);
            if (!optedOut.contains(recipient) && optOutBytes + cost > maxOptOutBytes) {
                throw new IllegalStateException(optedOut.size() + " opt-outs fill " + optOutBytes + " bytes, the limit "
                        + "(notifications.max-opt-out-bytes " + maxOptOutBytes + "); none may be forgotten");
            }
            if (optedOut.add(recipient)) {
                optOutBytes += cost;
            }
        }
        preferenceChanges.increment();
    }

    public void optIn(String recipient) {
        synchronized (optedOut) {
            if (optedOut.remove(recipient)) {
                optOutBytes -= RecentIds.cost(recipient);
            }
        }
        preferenceChanges.increment();
    }

    private boolean isOptedOut(String recipient) {
        synchronized (optedOut) {
            return optedOut.contains(recipient);
        }
    }

    /** @throws NotificationRejectedException when the value alone would exceed notifications.max-entry-bytes */
    private void checkSize(String what, String value) {
        long cost = RecentIds.cost(value);
        if (cost > maxEntryBytes) {
            String shown = value.length() <= SHOWN ? value : value.substring(0, SHOWN) + "...";
            throw new NotificationRejectedException(what + " " + shown + " (" + value.length() + " characters) would "
                    + "take " + cost + " bytes; one may take " + maxEntryBytes + " (notifications.max-entry-bytes)");
        }
    }

    void send(Notification n) {
        boolean valid = switch (String.valueOf(n.channel())) {
            case "email" -> n.address() != null && EMAIL.matcher(n.address()).matches();
            case "sms" -> n.address() != null && PHONE.matcher(n.address()).matches();
            default -> throw new IllegalArgumentException("unknown channel '" + n.channel() + "' (email or sms)");
        };
        if (!valid) {
            throw new IllegalArgumentException("invalid " + n.channel() + " address for recipient " + n.recipient());
        }
        LOG.debugf("sent %s notification to recipient %s", n.channel(), n.recipient());
    }

    /** @return the estimated bytes of the opt-outs and of the remembered request ids */
    public StateBytes bytes() {
        synchronized (optedOut) {
            return new StateBytes(optOutBytes, seen.bytes());
        }
    }

    /**
     * @param optOuts    estimated bytes of the recipients who opted out, at most notifications.max-opt-out-bytes
     * @param remembered estimated bytes of the remembered request ids, at most notifications.max-remembered-bytes
     */
    public record StateBytes(long optOuts, long remembered) {
    }

    public NotificationReport report() {
        return new NotificationReport(sent.sum(), suppressed.sum(), duplicates.sum(), preferenceChanges.sum());
    }
}
