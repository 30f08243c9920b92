package dev.eventline.deploy;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.ShutdownSignalException;

import dev.eventline.broker.ProgressReport;
import dev.eventline.broker.StatusExchange;
import dev.eventline.config.FunctionCatalog;
import dev.eventline.config.FunctionDescription;
import dev.eventline.testsupport.TestBroker;
import dev.eventline.topology.Names;
import dev.eventline.topology.Partitioning;
import dev.eventline.topology.TopologyManager;
import dev.eventline.topology.TopologySpec;

/**
 * What the Terraform module creates from the topology file ({@link TerraformPlan}) applied to a real broker, as the
 * provider applies it (through the management API, {@link TerraformApply}), in a vhost of its own: the runtime's verification (what it does with
 * {@code EVENTLINE_TOPOLOGY_DECLARE=false}) finds nothing to report, also when it runs as the planned users, and
 * each user can do its job and is refused ({@code ACCESS_REFUSED}) everything else. Creates users and a vhost,
 * so it runs only on a broker this JVM started ({@link TestBroker#isPrivate()}).
 */
class TerraformBrokerTest {

    private static final Path FAULTS = Path.of("src", "test", "resources", "functions-faults");
    /** pay and pay-out: one function's name starts the other's. */
    private static final Path PREFIXED = Path.of("src", "test", "resources", "functions-prefix");
    private static final int ACCESS_REFUSED = 403;
    private static final ObjectMapper JSON = new ObjectMapper();

    private static TestBroker broker;
    private static TerraformApply terraform;
    private static String vhost;
    private static String stem;
    private static Names names;
    private static List<FunctionDescription> functions;
    private static final Map<String, String> passwords = new HashMap<>();
    private static final List<Connection> connections = new ArrayList<>();

    @BeforeAll
    static void applyThePlan() {
        broker = TestBroker.get();
        broker.assumePrivate("creates users and a vhost");
        String id = UUID.randomUUID().toString().substring(0, 8);
        vhost = "terraform-" + id;
        stem = "tf-" + id + "-";
        names = new Names("tf." + id + "-");
        functions = List.copyOf(FunctionCatalog.fromDirectory(FAULTS).all());
        TerraformPlan plan = TerraformPlan.forFunctions(FAULTS, names.prefix(),
                Map.of("create_vhost", "true", "vhost", vhost, "user_name_prefix", stem, "create_keda_user", "true"));
        remember(plan);
        terraform = new TerraformApply(broker);
        terraform.apply(plan, passwords::get);
    }

    @AfterAll
    static void destroy() {
        connections.forEach(c -> {
            try {
                c.abort();
            } catch (RuntimeException e) {
                // closing anyway
            }
        });
        if (terraform != null) {
            terraform.destroy();
        }
    }

    @Test
    void theRuntimeVerifiesTheAppliedTopologyWithoutDifferencesAlsoAsEachPlannedUser() throws Exception {
        List<String> users = new ArrayList<>(passwords.keySet());
        users.add(null); // the administrator (guest)
        for (String user : users) {
            Connection c = connect(user);
            for (FunctionDescription fn : functions) {
                assertEquals(List.of(), new TopologyManager(names).apply(c, fn, false), fn.name() + " verified as " + user);
            }
            // the runtime only checks the status exchange (verify mode); its users may not re-declare it
            assertEquals(0, replyCode(c, ch -> ch.exchangeDeclarePassive(names.statusExchange())), "status exchange as " + user);
            assertEquals(user == null ? 0 : ACCESS_REFUSED, replyCode(c, ch -> StatusExchange.declare(ch, names.statusExchange())),
                    "status exchange re-declared as " + user);
        }
        // and the verification is real: a description with one partition more is reported
        FunctionDescription flaky = function("flaky");
        assertTrue(new TopologyManager(names).apply(connect(null), flaky.withPartitions(flaky.partitions() + 1), false)
                .contains("queue '" + names.partition("flaky", flaky.partitions()) + "' is missing"));
    }

    @Test
    void aFunctionsUserRunsItsFunctionAndIsRefusedEverythingElse() throws Exception {
        String f = "relaxed";
        String other = "flaky";
        Connection c = connect(user("fn-" + f));
        String partition = names.partition(f, 0);
        // consume its partitions, lock them
        assertEquals(0, replyCode(c, ch -> ch.basicCancel(ch.basicConsume(partition, false, new DefaultConsumer(ch)))));
        assertEquals(0, replyCode(c, ch -> {
            ch.queueDeclare(names.partitionLock(f, 0), false, true, true, null);
            ch.queueDelete(names.partitionLock(f, 0));
        }));
        // dead-letter an event; send one to wait in a delay queue, from where the broker returns it to its partition
        assertEquals(0, replyCode(c, ch -> publish(ch, names.deadLetterExchange(f), partition, Map.of(), "dead")));
        assertEquals(0, replyCode(c, ch -> publish(ch, names.retryExchange(f), partition,
                Map.of(TopologySpec.DELAY_LEVEL, "1"), "delayed")));
        await().atMost(Duration.ofSeconds(30)).until(() -> messages(c, partition) >= 1);
        // report progress and read the reports (server-named exclusive queue bound to the status exchange)
        List<ProgressReport> heard = new CopyOnWriteArrayList<>();
        StatusExchange.subscribe(c, names.statusExchange(), JSON, heard::add);
        ProgressReport report = new ProgressReport(f, "terraform-test", 1, 0, System.currentTimeMillis(), 1, false, 0, 0);
        assertEquals(0, replyCode(c, ch -> ch.basicPublish(names.statusExchange(), "", null, JSON.writeValueAsBytes(report))));
        await().atMost(Duration.ofSeconds(10)).until(() -> heard.contains(report));

        assertEquals(ACCESS_REFUSED, replyCode(c, ch -> ch.basicConsume(names.partition(other, 0), false, new DefaultConsumer(ch))));
        assertEquals(ACCESS_REFUSED, replyCode(c, ch -> ch.queueDeclare(names.partitionLock(other, 0), false, true, true, null)));
        assertEquals(ACCESS_REFUSED, replyCode(c, ch -> publish(ch, names.deadLetterExchange(other), "k", Map.of(), "x")));
        assertEquals(ACCESS_REFUSED, replyCode(c, ch -> publish(ch, names.exchange(f), "k", Map.of(), "an event")));
        assertEquals(ACCESS_REFUSED, replyCode(c, ch -> ch.basicGet(names.deadLetterQueue(f), false)));
        assertEquals(ACCESS_REFUSED, replyCode(c, ch -> ch.queueDeclare(names.pauseMarker(f), true, false, false,
                Map.of("x-max-length", 0, "x-overflow", "reject-publish"))));
    }

    /**
     * pay and pay-out, in a vhost of their own: though one name starts the other, neither function's user may
     * consume, read, purge, lock, delete or dead-letter into the other's queues; each may do all of it with its own.
     */
    @Test
    void whereOneFunctionsNameStartsAnothersNeitherUserReachesTheOthersQueues() throws Exception {
        String own = vhost + "-prefix";
        String users = stem + "p-";
        TerraformPlan plan = TerraformPlan.forFunctions(PREFIXED, names.prefix(),
                Map.of("create_vhost", "true", "vhost", own, "user_name_prefix", users));
        Map<String, String> theirPasswords = new HashMap<>(); // apart: the other tests connect as every user they know
        plan.output("users").fields().forEachRemaining(u -> theirPasswords.put(u.getValue().asText(),
                TerraformPlan.password(u.getKey())));
        terraform.apply(plan, theirPasswords::get);
        for (String[] pair : new String[][] { { "pay", "pay-out" }, { "pay-out", "pay" } }) {
            String f = pair[0];
            String other = pair[1];
            String user = users + "fn-" + f;
            Connection c = connect(user, own, theirPasswords.get(user));
            for (int i = 0; i < 2; i++) {
                String mine = names.partition(f, i);
                String theirs = names.partition(other, i);
                assertEquals(0, replyCode(c, ch -> ch.basicCancel(ch.basicConsume(mine, false, new DefaultConsumer(ch)))));
                assertEquals(ACCESS_REFUSED, replyCode(c, ch -> ch.basicConsume(theirs, false, new DefaultConsumer(ch))), theirs);
                assertEquals(ACCESS_REFUSED, replyCode(c, ch -> ch.basicGet(theirs, false)), theirs);
                assertEquals(ACCESS_REFUSED, replyCode(c, ch -> ch.queuePurge(theirs)), theirs);
                assertEquals(ACCESS_REFUSED, replyCode(c, ch -> ch.queueDelete(theirs)), theirs);
            }
            assertEquals(0, replyCode(c, ch -> {
                ch.queueDeclare(names.partitionLock(f, 0), false, true, true, null);
                ch.queueDelete(names.partitionLock(f, 0));
            }));
            assertEquals(0, replyCode(c, ch -> publish(ch, names.deadLetterExchange(f), "k", Map.of(), "dead")));
            assertEquals(ACCESS_REFUSED, replyCode(c, ch -> ch.queueDeclare(names.partitionLock(other, 0), false, true, true,
                    null)));
            assertEquals(ACCESS_REFUSED, replyCode(c, ch -> publish(ch, names.deadLetterExchange(other), "k", Map.of(), "x")));
            assertEquals(ACCESS_REFUSED, replyCode(c, ch -> ch.basicGet(names.deadLetterQueue(other), false)));
            int retry = replyCode(c, ch -> publish(ch, names.retryExchange("pay-out"), "k",
                    Map.of(TopologySpec.DELAY_LEVEL, "1"), "x"));
            assertEquals(f.equals("pay-out") ? 0 : ACCESS_REFUSED, retry, f + " publishing to pay-out.retry");
        }
    }

    @Test
    void theGatesUserPublishesAdministersDeadLettersAndPausesButConsumesNoPartition() throws Exception {
        Connection gate = connect(user("gate"));
        for (FunctionDescription fn : functions) {
            assertEquals(0, replyCode(gate, ch -> publish(ch, names.exchange(fn.name()),
                    Partitioning.routingKey("key-1", fn.partitions()), Map.of(), "event")));
        }
        FunctionDescription flaky = functions.stream().filter(f -> f.name().equals("flaky")).findFirst().orElseThrow();
        String partition = names.partition("flaky", Partitioning.of("key-1", flaky.partitions()));
        await().atMost(Duration.ofSeconds(10)).until(() -> messages(gate, partition) >= 1);
        // a dead-lettered event, read back and removed as list/replay/purge do
        Connection fn = connect(user("fn-flaky"));
        assertEquals(0, replyCode(fn, ch -> publish(ch, names.deadLetterExchange("flaky"), "flaky-0", Map.of(), "poison")));
        String dlq = names.deadLetterQueue("flaky");
        await().atMost(Duration.ofSeconds(10)).until(() -> messages(gate, dlq) >= 1);
        assertEquals(0, replyCode(gate, ch -> {
            GetResponse r = ch.basicGet(dlq, false);
            assertNotNull(r);
            assertEquals("poison", new String(r.getBody(), StandardCharsets.UTF_8));
            ch.basicAck(r.getEnvelope().getDeliveryTag(), false);
        }));
        // pause and resume intake (PartitionAdmin.pause)
        assertEquals(0, replyCode(gate, ch -> {
            ch.queueDeclare(names.pauseMarker("flaky"), true, false, false, Map.of("x-max-length", 0, "x-overflow", "reject-publish"));
            ch.queueDelete(names.pauseMarker("flaky"));
        }));
        List<ProgressReport> heard = new CopyOnWriteArrayList<>();
        StatusExchange.subscribe(gate, names.statusExchange(), JSON, heard::add);

        assertEquals(ACCESS_REFUSED, replyCode(gate, ch -> ch.basicConsume(names.partition("flaky", 0), false, new DefaultConsumer(ch))));
        assertEquals(ACCESS_REFUSED, replyCode(gate, ch -> ch.basicGet(names.partition("flaky", 0), false)));
        assertEquals(ACCESS_REFUSED, replyCode(gate, ch -> publish(ch, names.deadLetterExchange("flaky"), "k", Map.of(), "x")));
        assertEquals(ACCESS_REFUSED, replyCode(gate, ch -> publish(ch, names.statusExchange(), "", Map.of(), "{}")));
        assertEquals(ACCESS_REFUSED, replyCode(gate, ch -> ch.queueDeclare(names.partitionLock("flaky", 0), false, true, true, null)));
    }

    @Test
    void withTheVerificationGrantTheRuntimeAlsoComparesArguments() throws Exception {
        String grantedStem = stem + "s-";
        TerraformPlan granted = TerraformPlan.forFunctions(FAULTS, names.prefix(),
                Map.of("vhost", vhost, "user_name_prefix", grantedStem, "runtime_verifies_topology", "true"));
        remember(granted);
        terraform.apply(granted, passwords::get);
        Connection c = connect(grantedStem + "fn-flaky");
        assertEquals(List.of(), new TopologyManager(names).apply(c, function("flaky"), false));
        // the comparison is real for this user: a differing argument (the dead-letter queue's cap) is reported;
        // the least-privileged user of the other tests checks existence only and cannot see it
        FunctionDescription flaky = function("flaky");
        FunctionDescription.Limits l = flaky.limits();
        FunctionDescription capped = new FunctionDescription(flaky.name(), flaky.source(), flaky.eventTypes(),
                flaky.partitions(), flaky.concurrency(), flaky.timeout(), flaky.prefetch(), flaky.keyConcurrency(),
                flaky.retry(), new FunctionDescription.Limits(
                        l.depthSoft(), l.depthHard(), l.depthCeiling(), l.lagSoftSeconds(), l.lagHardSeconds(),
                        l.deadLetterMax() + 1, l.deadLetterWarn(), l.latencyTarget()), flaky.dedup());
        List<String> differences = new TopologyManager(names).apply(c, capped, false);
        assertEquals(1, differences.size(), String.valueOf(differences));
        assertTrue(differences.get(0).contains(names.deadLetterQueue("flaky")) && differences.get(0).contains("x-max-length"),
                differences.get(0));
        assertEquals(List.of(), new TopologyManager(names).apply(connect(stem + "fn-flaky"), capped, false),
                "without the grant: existence only");
        assertEquals(0, replyCode(c, ch -> ch.basicCancel(ch.basicConsume(names.partition("flaky", 0), false, new DefaultConsumer(ch)))));
    }

    @Test
    void kedasUserReadsTheDepthsOverTheManagementApiAndNothingOverAmqp() throws Exception {
        String keda = stem + "keda";
        // what KEDA's scaler asks (queueName regex, useRegex, operation sum), with its credentials
        String query = "/api/queues/" + java.net.URLEncoder.encode(vhost, StandardCharsets.UTF_8)
                + "?use_regex=true&page=1&page_size=500&name=" + java.net.URLEncoder.encode(
                        "^" + java.util.regex.Pattern.quote(names.prefix()) + "flaky-[0-9]+$", StandardCharsets.UTF_8);
        java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create(broker.managementUrl() + query))
                        .header("Authorization", "Basic " + java.util.Base64.getEncoder().encodeToString(
                                (keda + ":" + passwords.get(keda)).getBytes(StandardCharsets.UTF_8))).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        JsonNode items = JSON.readTree(r.body()).path("items");
        List<String> seen = new ArrayList<>();
        items.forEach(q -> seen.add(q.path("name").asText()));
        assertEquals(names.partitions("flaky", function("flaky").partitions()), seen.stream().sorted().toList(), r.body());
        Connection c = connect(keda);
        assertEquals(ACCESS_REFUSED, replyCode(c, ch -> ch.basicGet(names.partition("flaky", 0), false)));
        assertEquals(ACCESS_REFUSED, replyCode(c, ch -> publish(ch, names.exchange("flaky"), "k", Map.of(), "x")));
        assertEquals(ACCESS_REFUSED, replyCode(c, ch -> ch.queueDeclare("keda-was-here", false, true, true, null)));
    }

    @Test
    void thePolicyPlacesTheQuorumQueuesLeadersAndNoOtherQueue() {
        for (FunctionDescription fn : functions) {
            for (TopologySpec.Queue q : TopologySpec.of(fn, names).queues()) {
                boolean quorum = "quorum".equals(q.arguments().get("x-queue-type"));
                await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                    JsonNode info = terraform.queue(vhost, q.name());
                    assertEquals(quorum ? names.prefix() + "eventline-quorum-leaders" : "", info.path("policy").asText(""),
                            q.name());
                });
            }
        }
    }

    // ------------------------------------------------------------------ helpers

    private interface ChannelOp {
        void run(Channel ch) throws Exception;
    }

    /** Runs op on a channel of its own; 0 when it went through, else the reply code the broker closed it with. */
    private static int replyCode(Connection c, ChannelOp op) throws Exception {
        Channel ch = c.createChannel();
        try {
            op.run(ch);
            ch.basicQos(0); // a round trip: an asynchronous refusal (of a publish) has arrived by now
            return 0;
        } catch (IOException | ShutdownSignalException e) {
            ShutdownSignalException s = ch.getCloseReason();
            if (s == null || !(s.getReason() instanceof AMQP.Channel.Close close)) {
                throw e;
            }
            return close.getReplyCode();
        } finally {
            if (ch.isOpen()) {
                ch.close();
            }
        }
    }

    /** A confirmed, mandatory publish, as the gate and the trigger make them; fails when returned unroutable. */
    private static void publish(Channel ch, String exchange, String key, Map<String, Object> headers, String body)
            throws Exception {
        AtomicBoolean returned = new AtomicBoolean();
        ch.addReturnListener(r -> returned.set(true));
        ch.confirmSelect();
        ch.basicPublish(exchange, key, true, new AMQP.BasicProperties.Builder().headers(headers).deliveryMode(2).build(),
                body.getBytes(StandardCharsets.UTF_8));
        ch.waitForConfirmsOrDie(10_000);
        assertFalse(returned.get(), exchange + " did not route " + body);
    }

    private static long messages(Connection c, String queue) throws IOException {
        Channel ch = c.createChannel();
        try {
            return ch.queueDeclarePassive(queue).getMessageCount();
        } finally {
            try {
                ch.close();
            } catch (Exception e) {
                // closed already
            }
        }
    }

    /** A connection to the test's vhost as a planned user, or (null) as the broker's administrator. */
    private static Connection connect(String user) throws Exception {
        return connect(user, vhost, passwords.get(user));
    }

    private static Connection connect(String user, String vhost, String password) throws Exception {
        ConnectionFactory f = broker.connectionFactory();
        f.setVirtualHost(vhost);
        f.setAutomaticRecoveryEnabled(false);
        if (user != null) {
            f.setUsername(user);
            f.setPassword(password);
        }
        Connection c = f.newConnection("terraform-test-" + (user == null ? "admin" : user));
        connections.add(c);
        return c;
    }

    private static String user(String role) {
        return stem + role;
    }

    private static void remember(TerraformPlan plan) {
        plan.output("users").fields().forEachRemaining(u -> passwords.put(u.getValue().asText(),
                TerraformPlan.password(u.getKey())));
    }

    private static FunctionDescription function(String name) {
        return functions.stream().filter(f -> f.name().equals(name)).findFirst().orElseThrow();
    }
}
