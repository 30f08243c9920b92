package dev.eventline.broker;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.GetResponse;

/**
 * Parked mode's list of a partition's held keys, as it sits on the broker: JSON messages
 * {@code {"seq": n, "keys": [{...}, ...]}} in a queue of length 1 (the newest replacing the last), where a reader
 * that held one for a moment may have put an older one back beside it. The newest by {@code seq} is the list.
 * Read by the partition's next owner (the trigger) and by operators (the admin endpoints).
 *
 * @param seq  the list's sequence number, -1 when the queue held none
 * @param keys its entries that are JSON objects, in order
 * @param unreadable messages skipped because they are not such a list
 */
public record HeldKeysList(long seq, List<ObjectNode> keys, int unreadable) {

    /** Header of a message releasing a key held after its dead letter was purged; its value is that event's id. */
    public static final String RELEASE = "eventline-release-held";

    /**
     * Takes every message of the queue on {@code ch}, unacked (closing {@code ch} gives them back in order), and
     * keeps the newest readable list.
     */
    public static HeldKeysList read(Channel ch, String queue, ObjectMapper json) throws IOException {
        JsonNode newest = null;
        long seq = -1;
        int unreadable = 0;
        for (GetResponse r; (r = ch.basicGet(queue, false)) != null;) {
            JsonNode node;
            try {
                node = json.readTree(r.getBody());
            } catch (IOException e) {
                unreadable++;
                continue;
            }
            if (node == null || !node.path("seq").canConvertToLong() || !node.path("keys").isArray()) {
                unreadable++;
            } else if (node.path("seq").asLong() > seq) {
                seq = node.path("seq").asLong();
                newest = node;
            }
        }
        List<ObjectNode> keys = new ArrayList<>();
        if (newest != null) {
            newest.path("keys").forEach(k -> {
                if (k instanceof ObjectNode o) {
                    keys.add(o);
                }
            });
        }
        return new HeldKeysList(seq, List.copyOf(keys), unreadable);
    }
}
