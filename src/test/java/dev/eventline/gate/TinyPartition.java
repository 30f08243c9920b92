package dev.eventline.gate;

import java.nio.charset.StandardCharsets;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;

import dev.eventline.topology.Names;
import dev.eventline.topology.Partitioning;

/** The one partition of the test function {@code tiny}, filled to its broker-side cap around the gate. */
final class TinyPartition {

    private TinyPartition() {
    }

    static String event(String id) {
        return "{\"specversion\":\"1.0\",\"id\":\"" + id
                + "\",\"source\":\"/t\",\"type\":\"tiny.event\",\"subject\":\"k\"}";
    }

    /**
     * Empties the partition, then publishes five events straight to the exchange, with confirms, as a producer
     * bypassing the gate would: the cap (3) holds, the rest is nacked.
     *
     * @return how many were acked and how many nacked
     */
    static int[] fill(Channel ch, Names names, String run) throws Exception {
        ch.queuePurge(names.partition("tiny", 0));
        ch.confirmSelect();
        int[] ackedNacked = new int[2];
        for (int i = 0; i < 5; i++) {
            ch.basicPublish(names.exchange("tiny"), Partitioning.routingKey("k", 1), true,
                    new AMQP.BasicProperties.Builder().deliveryMode(2).messageId(run + "-direct-" + i).build(),
                    event(run + "-direct-" + i).getBytes(StandardCharsets.UTF_8));
            ackedNacked[ch.waitForConfirms(10_000) ? 0 : 1]++;
        }
        return ackedNacked;
    }
}
