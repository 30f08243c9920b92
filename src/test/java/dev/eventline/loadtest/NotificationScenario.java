package dev.eventline.loadtest;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.eventline.testsupport.GateClient;

/**
 * Per recipient, a random sequence of notification requests, opt-outs and opt-ins. Which requests are sent
 * and which suppressed follows from the sequence only when it is processed in order, so the expected counts
 * check per-recipient order.
 */
final class NotificationScenario {

    final List<List<ObjectNode>> perRecipient = new ArrayList<>();
    long expectedSent;
    long expectedSuppressed;
    long preferenceChanges;

    NotificationScenario(String runId, int recipients, int eventsPerRecipient, long seed) {
        Random random = new Random(seed);
        for (int r = 0; r < recipients; r++) {
            String who = runId + "-rcpt-" + r;
            boolean optedOut = false;
            List<ObjectNode> events = new ArrayList<>();
            for (int i = 0; i < eventsPerRecipient; i++) {
                int pick = random.nextInt(10);
                String id = who + "-" + i;
                if (pick == 0) {
                    events.add(GateClient.event(id, "notification.optout", who, Map.of("recipient", who)));
                    optedOut = true;
                    preferenceChanges++;
                } else if (pick == 1) {
                    events.add(GateClient.event(id, "notification.optin", who, Map.of("recipient", who)));
                    optedOut = false;
                    preferenceChanges++;
                } else {
                    Map<String, Object> data = new LinkedHashMap<>();
                    data.put("recipient", who);
                    data.put("channel", "email");
                    data.put("address", who + "@example.org");
                    data.put("text", "message " + i);
                    events.add(GateClient.event(id, "notification.requested", who, data));
                    if (optedOut) {
                        expectedSuppressed++;
                    } else {
                        expectedSent++;
                    }
                }
            }
            perRecipient.add(events);
        }
    }

    int totalEvents() {
        return perRecipient.stream().mapToInt(List::size).sum();
    }

    /** Batches that keep each recipient's order: batch k holds event k of every recipient. */
    List<List<ObjectNode>> batches(int batchSize) {
        List<List<ObjectNode>> batches = new ArrayList<>();
        int longest = perRecipient.stream().mapToInt(List::size).max().orElse(0);
        List<ObjectNode> current = new ArrayList<>();
        for (int k = 0; k < longest; k++) {
            for (List<ObjectNode> events : perRecipient) {
                if (k < events.size()) {
                    current.add(events.get(k));
                    if (current.size() == batchSize) {
                        batches.add(current);
                        current = new ArrayList<>();
                    }
                }
            }
        }
        if (!current.isEmpty()) {
            batches.add(current);
        }
        return batches;
    }
}
