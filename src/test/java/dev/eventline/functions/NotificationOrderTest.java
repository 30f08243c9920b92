package dev.eventline.functions;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.eventline.functions.notifications.NotificationReport;
import dev.eventline.functions.notifications.NotificationSender;
import dev.eventline.testsupport.BrokerResource;
import dev.eventline.testsupport.GateClient;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.junit.QuarkusTest;

/** Opt-out and opt-in take effect in event order per recipient, so what is sent depends on order being kept. */
@QuarkusTest
@QuarkusTestResource(BrokerResource.class)
class NotificationOrderTest {

    @Inject
    NotificationSender sender;
    @Inject
    MeterRegistry registry;

    @TestHTTPResource("/events")
    URI gate;

    @Test
    void honoursOptOutInEventOrderPerRecipient() {
        NotificationReport before = sender.report();
        GateClient client = new GateClient(gate);
        int recipients = 50;
        List<ObjectNode> batch = new ArrayList<>();
        for (int r = 0; r < recipients; r++) {
            String who = "rcpt-" + UUID.randomUUID();
            batch.add(request(who, "1"));
            batch.add(GateClient.event(who + "-out", "notification.optout", who, Map.of("recipient", who)));
            batch.add(request(who, "2"));
            batch.add(GateClient.event(who + "-in", "notification.optin", who, Map.of("recipient", who)));
            batch.add(request(who, "3"));
            batch.add(request(who, "3")); // the same event again: sent once
        }
        double skippedBefore = skipped();
        client.deliver(batch, 5);
        await().atMost(Duration.ofSeconds(60)).until(() -> sender.report().sent() + sender.report().suppressed()
                - before.sent() - before.suppressed() == 3L * recipients && skipped() - skippedBefore == recipients);
        NotificationReport after = sender.report();
        assertEquals(2L * recipients, after.sent() - before.sent());
        assertEquals(recipients, after.suppressed() - before.suppressed());
        // the repeated event never reached the handler: the trigger's dedup window skipped it
        assertEquals(0, after.duplicates() - before.duplicates());
    }

    private double skipped() {
        Counter c = registry.find("eventline.duplicates.skipped").tag("function", "notifications").counter();
        return c == null ? 0 : c.count();
    }

    private static ObjectNode request(String who, String n) {
        return GateClient.event(who + "-req-" + n, "notification.requested", who,
                Map.of("recipient", who, "channel", "email", "address", who + "@example.org", "text", "hello " + n));
    }
}
