package dev.eventline.functions.notifications;

import jakarta.inject.Inject;

import io.quarkus.funqy.Context;
import io.quarkus.funqy.Funq;
import io.quarkus.funqy.knative.events.CloudEvent;
import io.quarkus.funqy.knative.events.CloudEventMapping;

/** The notification sender ({@code functions/notifications/}). */
public class NotificationFunctions {

    @Inject
    NotificationSender sender;

    @Funq
    @CloudEventMapping(trigger = "notification.requested")
    public void notificationRequested(Notification data, @Context CloudEvent<?> event) {
        sender.request(event.id(), data);
    }

    @Funq
    @CloudEventMapping(trigger = "notification.optout")
    public void notificationOptout(Notification data) {
        sender.optOut(data.recipient());
    }

    @Funq
    @CloudEventMapping(trigger = "notification.optin")
    public void notificationOptin(Notification data) {
        sender.optIn(data.recipient());
    }

    /** {@code GET /notificationReport}. */
    @Funq
    public NotificationReport notificationReport() {
        return sender.report();
    }
}
