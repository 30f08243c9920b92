package dev.eventline.functions.notifications;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Pattern;

import jakarta.enterprise.context.ApplicationScoped;

import org.jboss.logging.Logger;

/**
 * Sends notifications, honouring each recipient's opt-out in event order: a request processed after the
 * recipient's {@code notification.optout} is suppressed, one processed after {@code notification.optin} is
 * sent. Order per recipient therefore decides what is sent. A request is sent at most once per event id
 * (the last {@value #REMEMBERED} ids are remembered). Invalid addresses fail, so they are retried and then
 * dead-lettered. Sending goes to a log line here; a real channel (SMTP, an SMS API) plugs in at {@link #send}.
 */
@ApplicationScoped
public class NotificationSender {

    private static final Logger LOG = Logger.getLogger(NotificationSender.class);
    static final int REMEMBERED = 100_000;
    private static final Pattern EMAIL = Pattern.compile("[^@\\s]+@[^@\\s]+");
    private static final Pattern PHONE = Pattern.compile("\\+?[0-9]{6,15}");

    private final Set<String> optedOut = ConcurrentHashMap.newKeySet();
    private final Set<String> seen = Collections.synchronizedSet(Collections.newSetFromMap(
            new LinkedHashMap<>() {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
                    return size() > REMEMBERED;
                }
            }));
    private final LongAdder sent = new LongAdder();
    private final LongAdder suppressed = new LongAdder();
    private final LongAdder duplicates = new LongAdder();
    private final LongAdder preferenceChanges = new LongAdder();

    public void request(String eventId, Notification n) {
        if (n == null || n.recipient() == null) {
            throw new IllegalArgumentException("notification without recipient");
        }
        if (!seen.add(eventId)) {
            duplicates.increment();
            return;
        }
        if (optedOut.contains(n.recipient())) {
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
        optedOut.add(recipient);
        preferenceChanges.increment();
    }

    public void optIn(String recipient) {
        optedOut.remove(recipient);
        preferenceChanges.increment();
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

    public NotificationReport report() {
        return new NotificationReport(sent.sum(), suppressed.sum(), duplicates.sum(), preferenceChanges.sum());
    }
}
