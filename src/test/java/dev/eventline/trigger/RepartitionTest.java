package dev.eventline.trigger;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.eventline.config.FunctionCatalog;
import dev.eventline.config.FunctionDescription;
import dev.eventline.testsupport.BrokerResource;
import dev.eventline.testsupport.GateClient;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/**
 * The partition-count change procedure of docs/partitions.md, run with the CLI while producers keep sending:
 * pause intake, wait until drained, stop the instances, repartition, start instances with the new count,
 * resume. Nothing is lost and every key's steps are applied in order.
 */
@QuarkusTest
@QuarkusTestResource(BrokerResource.class)
@TestProfile(RepartitionTest.Profile.class)
class RepartitionTest {

    static final String TOKEN = "repartition-admin-token-0123";

    /** The gate and admin endpoints in this process; the test runs the function's instances. */
    public static class Profile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("eventline.functions.dir", "src/test/resources/functions-repartition",
                    "eventline.functions.enabled", "none", "eventline.monitor.interval", "200ms",
                    "eventline.admin.enabled", "true", "eventline.admin.token", TOKEN);
        }
    }

    @Inject
    Trigger trigger;
    @Inject
    FunctionCatalog catalog;
    @Inject
    Sequences.Ledger ledger;

    @TestHTTPResource("/events")
    URI events;
    @TestHTTPResource("/")
    URI base;

    @Test
    void changingThePartitionCountWhileEventsFlowKeepsEveryEventAndEveryKeysOrder() throws Exception {
        // 4 producers x 40 paced batches (about 4 s of traffic); the change happens in the middle
        FunctionDescription four = catalog.byName("resizable").orElseThrow();
        String run = UUID.randomUUID().toString().substring(0, 6);
        List<Trigger.Running> instances = new ArrayList<>(List.of(trigger.launch("r1-" + run, List.of(four)),
                trigger.launch("r2-" + run, List.of(four))));
        int keys = 200;
        int steps = 40;
        ExecutorService producers = Executors.newFixedThreadPool(4);
        List<Future<?>> sending = new ArrayList<>();
        for (int p = 0; p < 4; p++) {
            int first = p;
            sending.add(producers.submit(() -> {
                GateClient gate = new GateClient(events);
                for (int step = 1; step <= steps; step++) {
                    List<ObjectNode> batch = new ArrayList<>();
                    for (int k = first; k < keys; k += 4) {
                        String key = "k" + k + "-" + run;
                        batch.add(GateClient.event(key + "-" + step, "seq.step", key, new Sequences.Step(key, step)));
                    }
                    gate.deliver(batch, 200); // 503 while intake is paused: resent after a backoff
                    java.util.concurrent.locks.LockSupport.parkNanos(Duration.ofMillis(100).toNanos()); // producer pace
                }
                return null;
            }));
        }
        try {
            await().atMost(Duration.ofSeconds(60)).until(() -> ledger.applied() >= 400);
            String refused = run("repartition", "resizable", "--to", "6", "--yes", "resizable");
            assertTrue(refused.contains("409") && refused.contains("not paused"), refused);

            cli("pause", "resizable");
            String drained = cli("partitions", "resizable", "--wait", "60");
            long appliedAtPause = ledger.applied();
            assertTrue(drained.contains("\"drained\":true") && drained.contains("\"onBroker\":4"), drained);
            for (Trigger.Running r : instances) {
                r.stop(Duration.ofSeconds(30));
            }
            instances.clear();
            String replaced = cli("repartition", "resizable", "--to", "6", "--yes", "resizable");
            assertTrue(replaced.contains("\"partitions\":6") && replaced.contains("\"differences\":[]"), replaced);
            FunctionDescription six = four.withPartitions(6);
            instances.add(trigger.launch("r3-" + run, List.of(six)));
            instances.add(trigger.launch("r4-" + run, List.of(six)));
            System.out.printf("[repartition] paused and drained after %d of %d events; 4 -> 6 partitions%n",
                    appliedAtPause, keys * steps);
            assertTrue(appliedAtPause < (long) keys * steps, "paused mid-stream: " + appliedAtPause);
            assertEquals(appliedAtPause, ledger.applied(), "nothing is processed while repartitioning");
            cli("resume", "resizable");

            for (Future<?> f : sending) {
                f.get(180, TimeUnit.SECONDS);
            }
            await().atMost(Duration.ofSeconds(120)).until(() -> ledger.applied() == (long) keys * steps);
            assertEquals(0, ledger.violations(), "steps applied out of order");
            for (int k = 0; k < keys; k++) {
                assertEquals(steps, ledger.last("k" + k + "-" + run));
            }
            String after = cli("partitions", "resizable");
            assertTrue(after.contains("\"onBroker\":6") && after.contains("\"paused\":false"), after);
            int owned = instances.stream().mapToInt(r -> r.owned("resizable")).sum();
            assertEquals(6, owned, "the new partitions are shared by the running instances");
        } finally {
            producers.shutdownNow();
            instances.forEach(r -> r.stop(Duration.ofSeconds(10)));
        }
    }

    private String cli(String... args) throws Exception {
        String output = run(args);
        assertTrue(output.startsWith("exit 0\n"), String.join(" ", args) + ": " + output);
        return output;
    }

    /** @return "exit <status>" and the CLI's output */
    private String run(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("bin/eventline-admin"));
        command.addAll(List.of(args));
        File out = File.createTempFile("cli", ".out");
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out);
        pb.environment().put("EVENTLINE_URL", base.toString().replaceAll("/$", ""));
        pb.environment().put("EVENTLINE_ADMIN_TOKEN", TOKEN);
        Process p = pb.start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the CLI finished: " + command);
        return "exit " + p.exitValue() + "\n" + Files.readString(out.toPath(), StandardCharsets.UTF_8);
    }
}
