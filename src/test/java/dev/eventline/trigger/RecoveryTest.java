package dev.eventline.trigger;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;

import dev.eventline.app.Lifecycle;
import dev.eventline.functions.orders.OrderLifecycle;
import dev.eventline.testsupport.BrokerResource;
import dev.eventline.testsupport.OrderScenario;
import dev.eventline.testsupport.TestBroker;
import dev.eventline.topology.Names;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;

/**
 * The pipeline keeps flowing through faults that drop every connection of the process at once, under load:
 * afterwards every partition has exactly one consumer, everything accepted is applied, in order, and
 * readiness is UP again.
 */
@QuarkusTest
@QuarkusTestResource(BrokerResource.class)
class RecoveryTest {

    @Inject
    OrderLifecycle orders;
    @Inject
    Names names;
    @Inject
    Lifecycle lifecycle;

    @TestHTTPResource("/events")
    URI gate;

    @Test
    void keepsDrainingWhenEveryConnectionOfTheProcessIsClosedAtOnce() throws Exception {
        // as a network blip or a proxy reset does: through the management API, broker side
        // (the management API lists a connection once its first statistics are out: ask until they are all found)
        runThrough("blip", () -> await().atMost(Duration.ofSeconds(30))
                .until(() -> TestBroker.get().closeConnectionsOf(lifecycle.instance()) >= 6));
    }

    @Test
    void keepsDrainingAfterTheBrokerRestartsUnderLoad() throws Exception {
        TestBroker.get().assumePrivate("restarts the broker (stop_app, start_app)");
        runThrough("restart", TestBroker.get()::restartApp);
    }

    private void runThrough(String name, Runnable fault) throws Exception {
        OrderScenario scenario = new OrderScenario(name + "-" + UUID.randomUUID(), 800, 6, 5);
        long before = orders.report().applied();
        CompletableFuture<Void> sending = scenario.sendInBackground(gate, 4, 20);
        await().atMost(Duration.ofSeconds(60)).until(() -> orders.report().applied() - before > 300);
        long appliedAtFault = orders.report().applied() - before;
        fault.run();
        assertTrue(appliedAtFault < scenario.totalEvents() / 2, "the fault came mid-stream: " + appliedAtFault);
        sending.get();
        scenario.awaitAppliedInOrder(orders, Duration.ofSeconds(120));
        try (Connection c = TestBroker.get().connectionFactory().newConnection("recovery-test-inspect")) {
            Channel ch = c.createChannel();
            for (String partition : names.partitions("orders", 8)) {
                await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertEquals(1,
                        ch.queueDeclarePassive(partition).getConsumerCount(), "consumers of " + partition));
            }
        }
        await().atMost(Duration.ofSeconds(30))
                .until(() -> RestAssured.get("/q/health/ready").statusCode() == 200);
    }
}
