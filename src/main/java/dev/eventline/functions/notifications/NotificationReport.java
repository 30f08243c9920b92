package dev.eventline.functions.notifications;

/**
 * @param sent       notifications handed to the outbox
 * @param suppressed requests for recipients who had opted out when the request was processed
 * @param duplicates requests seen again (same event id) and not sent twice
 * @param preferenceChanges opt-out and opt-in events applied
 */
public record NotificationReport(long sent, long suppressed, long duplicates, long preferenceChanges) {
}
