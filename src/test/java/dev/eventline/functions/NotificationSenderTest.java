package dev.eventline.functions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import dev.eventline.functions.notifications.Notification;
import dev.eventline.functions.notifications.NotificationRejectedException;
import dev.eventline.functions.notifications.NotificationSender;

/** The sender's memory is bounded in bytes: oversized values are refused for good, ids forgotten, opt-outs kept. */
class NotificationSenderTest {

    private static Notification email(String who) {
        return new Notification(who, "email", "someone@example.org", "hi");
    }

    @Test
    void refusesForGoodARecipientOrIdLargerThanOneEntryMayBeAndKeepsNothingOfIt() {
        NotificationSender sender = new NotificationSender(2048, 1 << 20, 1 << 20);
        String huge = "r".repeat(8 * 1024 * 1024);
        NotificationRejectedException e = assertThrows(NotificationRejectedException.class, () -> sender.optOut(huge));
        assertTrue(e.getMessage().contains("notifications.max-entry-bytes") && e.getMessage().length() < 300,
                e.getMessage());
        assertThrows(NotificationRejectedException.class, () -> sender.request(huge, email("r1")));
        assertThrows(NotificationRejectedException.class, () -> sender.request("id-1", email(huge)));
        assertEquals(new NotificationSender.StateBytes(0, 0), sender.bytes());
        assertEquals(0, sender.report().sent());
    }

    @Test
    void forgetsTheOldestRequestIdsBeyondTheirBytes() {
        long max = 10_000;
        NotificationSender sender = new NotificationSender(2048, max, 1 << 20);
        for (int i = 0; i < 200; i++) {
            sender.request("i".repeat(500) + i, email("r" + i));
            assertTrue(sender.bytes().remembered() <= max, sender.bytes() + " after " + (i + 1));
        }
        assertEquals(200, sender.report().sent());
        sender.request("i".repeat(500) + 199, email("r199"));
        assertEquals(1, sender.report().duplicates(), "the latest id is still remembered");
        sender.request("i".repeat(500) + 0, email("r0"));
        assertEquals(201, sender.report().sent(), "the oldest was forgotten to stay within the bound");
    }

    @Test
    void neverForgetsAnOptOutAndRefusesNewOnesWhenTheyFillTheirBytes() {
        long max = 4_000;
        NotificationSender sender = new NotificationSender(2048, 1 << 20, max);
        String who = "p".repeat(900);
        sender.optOut(who + 1);
        sender.optOut(who + 2);
        IllegalStateException full = assertThrows(IllegalStateException.class, () -> sender.optOut(who + 3));
        assertTrue(full.getMessage().contains("notifications.max-opt-out-bytes 4000"), full.getMessage());
        sender.optOut(who + 1); // already opted out: no more bytes
        assertTrue(sender.bytes().optOuts() <= max, sender.bytes().toString());
        sender.request("after", email(who + 1));
        assertEquals(1, sender.report().suppressed(), "the first opt-out still holds");
        sender.optIn(who + 1);
        sender.optOut(who + 3); // an opt-in made room
        assertTrue(sender.bytes().optOuts() <= max, sender.bytes().toString());
    }
}
