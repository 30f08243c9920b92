package dev.eventline.testsupport;

import java.util.Map;
import java.util.UUID;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/**
 * Points the application under test at the {@link TestBroker} of this JVM ({@code rabbitmq.url}) and gives
 * this JVM's queues a prefix of their own ({@code eventline.topology.prefix}), so that durable queues left on
 * an external broker by an earlier run never feed this one; on an external broker every queue and exchange
 * with the prefix is deleted when the JVM exits. The broker outlives every test resource: it is stopped by a
 * JVM shutdown hook, not here.
 */
public class BrokerResource implements QuarkusTestResourceLifecycleManager {

    private static final String PREFIX_PROPERTY = "dev.eventline.testsupport.prefix";

    @Override
    public Map<String, String> start() {
        return Map.of("rabbitmq.url", TestBroker.get().amqpUrl(), "eventline.topology.prefix", prefix());
    }

    @Override
    public void stop() {
        // the broker lives for the whole JVM
    }

    /** One prefix per JVM, also across Quarkus' class loaders (a system property holds it). */
    static String prefix() {
        synchronized (PREFIX_PROPERTY.intern()) {
            String prefix = System.getProperty(PREFIX_PROPERTY);
            if (prefix == null) {
                prefix = "t" + UUID.randomUUID().toString().substring(0, 8) + "-";
                System.setProperty(PREFIX_PROPERTY, prefix);
                if (System.getenv("RABBITMQ_URL") != null) {
                    String owned = prefix;
                    Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTopology(owned)));
                }
            }
            return prefix;
        }
    }

    /** Every queue and exchange of this JVM, whichever function set a test used (they all share the prefix). */
    private static void deleteTopology(String prefix) {
        try {
            int deleted = TestBroker.get().deleteByPrefix(prefix);
            System.err.println("[BrokerResource] deleted this run's " + deleted + " queues and exchanges (prefix "
                    + prefix + ")");
        } catch (RuntimeException e) {
            System.err.println("[BrokerResource] could not delete this run's queues (prefix " + prefix + "): " + e);
        }
    }
}
