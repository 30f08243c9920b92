package dev.eventline.faultmatrix;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;

import dev.eventline.broker.ConfirmingPublisher;
import dev.eventline.broker.OutgoingMessage;
import dev.eventline.testsupport.LocalCluster;

/**
 * The RabbitMQ 3.10 behaviour behind the fault matrix's failed leader-kill rows, shown on its own
 * ({@code ./mvnw -Pfaults verify -Dfaults.args=--stuck-channel-probe}): on a three-node cluster, right after kill -9
 * of a quorum queue's leader node, twelve raw channels and twelve of the gate's one-channel publishers
 * ({@link ConfirmingPublisher}) make their first publish to the queue about 15 ms apart, then one every 300 ms.
 * It prints one line per pair, {@code a} for confirmed and {@code N} for nacked or failed. A raw channel whose
 * first publish came before the queue's record named its new leader is nacked for good; the gate's publisher
 * is nacked once, retires that channel and confirms on a fresh one. Whether a pair hits that window depends
 * on timing: a run may show none.
 */
public final class StuckChannelProbe {

    private StuckChannelProbe() {
    }

    public static void main(String[] args) throws Exception {
        LocalCluster cluster = LocalCluster.startCluster(3);
        try {
            ConnectionFactory f = new ConnectionFactory();
            f.setAutomaticRecoveryEnabled(false);
            f.setPort(cluster.nodes().get(0).amqpPort());
            String q = "probe";
            try (Connection setup = f.newConnection("setup")) {
                setup.createChannel().queueDeclare(q, true, false, false, Map.of("x-queue-type", "quorum",
                        "x-max-length", 100000, "x-overflow", "reject-publish"));
            }
            int leader = org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30))
                    .until(() -> cluster.leaderOf(q).orElse(-1), l -> l >= 0);
            int a = (leader + 1) % 3;
            System.out.println("leader node " + leader + ", publishing through node " + a);
            ConnectionFactory fa = new ConnectionFactory();
            fa.setAutomaticRecoveryEnabled(false);
            fa.setPort(cluster.nodes().get(a).amqpPort());
            int n = 12;
            try (Connection raw = fa.newConnection("probe-raw")) {
                List<Channel> chans = new ArrayList<>();
                List<ConfirmingPublisher> pools = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    Channel c = raw.createChannel();
                    c.confirmSelect();
                    chans.add(c);
                    pools.add(new ConfirmingPublisher(fa.newConnection("probe-pool-" + i), 1, 1000));
                }
                StringBuilder[] rawPattern = new StringBuilder[n];
                StringBuilder[] poolPattern = new StringBuilder[n];
                for (int i = 0; i < n; i++) {
                    rawPattern[i] = new StringBuilder();
                    poolPattern[i] = new StringBuilder();
                }
                cluster.kill(leader);
                long t0 = System.nanoTime();
                for (int round = 0; round < 15; round++) {
                    for (int i = 0; i < n; i++) {
                        try {
                            chans.get(i).basicPublish("", q, null, ("raw" + i).getBytes());
                            rawPattern[i].append(chans.get(i).waitForConfirms(5_000) ? "a" : "N");
                        } catch (Exception e) {
                            rawPattern[i].append("x");
                        }
                        try {
                            pools.get(i).publish(List.of(new OutgoingMessage("", q, new AMQP.BasicProperties.Builder()
                                    .messageId("pool" + i + "-" + round).build(), ("pool" + i).getBytes())),
                                    Duration.ofSeconds(5)).get(0).get(10, TimeUnit.SECONDS);
                            poolPattern[i].append("a");
                        } catch (Exception e) {
                            poolPattern[i].append("N");
                        }
                        if (round == 0) {
                            sleep(15);
                        }
                    }
                    if (round == 0) {
                        System.out.printf("first round took %.2fs%n", (System.nanoTime() - t0) / 1e9);
                    }
                    sleep(300);
                }
                for (int i = 0; i < n; i++) {
                    System.out.println("pair " + i + ": raw channel " + rawPattern[i] + "   gate publisher " + poolPattern[i]);
                }
            }
        } finally {
            cluster.close();
        }
    }

    private static void sleep(long millis) {
        java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(millis));
    }
}
