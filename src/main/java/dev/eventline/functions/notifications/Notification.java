package dev.eventline.functions.notifications;

/**
 * Data of every {@code notification.*} event.
 *
 * @param recipient who (also the event's partition key)
 * @param channel   {@code email} or {@code sms}, for {@code notification.requested}
 * @param address   where to: an e-mail address or a phone number
 * @param text      what to say
 */
public record Notification(String recipient, String channel, String address, String text) {
}
