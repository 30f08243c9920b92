package dev.eventline.testsupport;

import static dev.eventline.testsupport.Processes.awaitExit;
import static dev.eventline.testsupport.Support.log;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A RabbitMQ cluster of private nodes of the installed rabbitmq-server on loopback, as the tests provision a
 * single node ({@link LocalNode}): each node on free ports with its files under {@code target/rabbitmq/<node>/},
 * all with one Erlang cookie, joined to the first. Nodes can be killed, stopped, restarted and alarmed, which
 * is what the fault matrix does to them; everything is stopped at JVM exit, and a killed run's nodes are
 * stopped by the next one ({@link Leftovers}).
 */
public final class LocalCluster implements AutoCloseable {

    private static final Duration START_TIMEOUT = Duration.ofSeconds(180);

    private final Path sbin;
    private final List<Node> nodes = new ArrayList<>();

    /** One node: its name, files and ports stay the same across restarts. */
    public static final class Node {
        final String name;
        final Path dir;
        final NodeConfig config;
        final ManagementApi management;
        Process server;

        Node(String name, Path dir, NodeConfig config) {
            this.name = name;
            this.dir = dir;
            this.config = config;
            this.management = new ManagementApi("http://127.0.0.1:" + config.managementPort(), "guest", "guest",
                    Duration.ofSeconds(3), Duration.ofSeconds(10));
        }

        public String name() {
            return name;
        }

        public int amqpPort() {
            return config.amqpPort();
        }
    }

    private LocalCluster(Path sbin) {
        this.sbin = sbin;
    }

    /** Starts {@code size} nodes and joins them into one cluster. */
    public static LocalCluster startCluster(int size) {
        Path sbin = RabbitmqInstall.findSbin().orElseThrow(() -> new IllegalStateException(
                "a local cluster needs an installed rabbitmq-server (apt-get install rabbitmq-server)"));
        Path base = Paths.get(System.getProperty("user.dir"), "target", "rabbitmq").toAbsolutePath().normalize();
        Leftovers.cleanUp(base, sbin);
        LocalCluster cluster = new LocalCluster(sbin);
        Support.addShutdownHook(cluster::close);
        String cookie = HexFormat.of().formatHex(new SecureRandom().generateSeed(16)).toUpperCase();
        long t0 = System.nanoTime();
        for (int i = 0; i < size; i++) {
            String id = "eventline-" + ProcessHandle.current().pid() + "-"
                    + Long.toString(ThreadLocalRandom.current().nextLong(36L * 36 * 36 * 36 * 36 * 36), 36);
            Path dir = base.resolve(id);
            NodeConfig config = NodeConfig.write(dir, id + "@localhost");
            cluster.prepare(dir, cookie);
            cluster.nodes.add(new Node(id + "@localhost", dir, config));
        }
        cluster.nodes.parallelStream().forEach(cluster::boot);
        for (int i = 1; i < size; i++) {
            Node n = cluster.nodes.get(i);
            cluster.ctlOrFail(n, "stop_app");
            cluster.ctlOrFail(n, "join_cluster", cluster.nodes.get(0).name);
            cluster.ctlOrFail(n, "start_app");
        }
        log("cluster of " + size + " nodes up in " + Duration.ofNanos(System.nanoTime() - t0).toMillis() + " ms: "
                + cluster.nodes.stream().map(n -> n.name + " amqp " + n.amqpPort()).collect(Collectors.joining(", ")));
        return cluster;
    }

    /** The node's own cookie (shared), and the settings a production cluster has (infra/rabbitmq). */
    private void prepare(Path dir, String cookie) {
        try {
            Path file = dir.resolve(".erlang.cookie");
            Files.writeString(file, cookie);
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("r--------"));
            Files.writeString(dir.resolve("rabbitmq.conf"), String.join("\n",
                    "cluster_partition_handling = pause_minority",
                    "queue_leader_locator = balanced",
                    "heartbeat = 10",
                    ""), StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare " + dir, e);
        }
    }

    public List<Node> nodes() {
        return List.copyOf(nodes);
    }

    /** Credentials and vhost for the application; the hosts come from {@link #addresses()}. */
    public String amqpUrl() {
        return "amqp://guest:guest@127.0.0.1:" + nodes.get(0).amqpPort() + "/%2F";
    }

    /** Every node's AMQP address, {@code host:port,...} ({@code rabbitmq.addresses}). */
    public String addresses() {
        return nodes.stream().map(n -> "127.0.0.1:" + n.amqpPort()).collect(Collectors.joining(","));
    }

    /** kill -9 of the node's Erlang VM. */
    public void kill(int i) {
        Node n = nodes.get(i);
        Optional<ProcessHandle> vm = NodeProcesses.find(n.dir);
        vm.ifPresent(p -> {
            p.destroyForcibly();
            awaitExit(p, Duration.ofSeconds(10));
        });
        if (n.server != null) {
            awaitExit(n.server.toHandle(), Duration.ofSeconds(10));
        }
        log("killed " + n.name + (vm.isPresent() ? " (pid " + vm.get().pid() + ")" : " (was not running)"));
    }

    /** Stops the node's Erlang VM gracefully ({@code rabbitmqctl stop}). */
    public void stop(int i) {
        Node n = nodes.get(i);
        ctl(n, "stop");
        NodeProcesses.find(n.dir).ifPresent(p -> awaitExit(p, Duration.ofSeconds(30)));
        log("stopped " + n.name);
    }

    /** Starts a node that was killed or stopped (its files, and so its cluster membership, are kept). */
    public void start(int i) {
        boot(nodes.get(i));
    }

    public void stopApp(int i) {
        ctlOrFail(nodes.get(i), "stop_app");
    }

    public void startApp(int i) {
        ctlOrFail(nodes.get(i), "start_app");
    }

    /** A memory alarm on one node blocks publishing in the whole cluster. */
    public void memoryAlarm(int i, boolean on) {
        ctlOrFail(nodes.get(i), "set_vm_memory_high_watermark", on ? "0.000001" : "0.4");
    }

    /** A disk alarm, by asking for more free disk than any machine has. */
    public void diskAlarm(int i, boolean on) {
        ctlOrFail(nodes.get(i), "set_disk_free_limit", on ? "1000000GB" : "50MB");
    }

    /** @return the index of the node that leads this quorum queue, if a running node says */
    public Optional<Integer> leaderOf(String queue) {
        for (Node n : nodes) {
            try {
                JsonNode q = n.management.getJson("/api/queues/%2F/" + Urls.encodePathSegment(queue));
                String leader = q.path("leader").asText(q.path("node").asText(""));
                for (int i = 0; i < nodes.size(); i++) {
                    if (nodes.get(i).name.equals(leader)) {
                        return Optional.of(i);
                    }
                }
            } catch (RuntimeException unreachable) {
                // that node is down: ask the next
            }
        }
        return Optional.empty();
    }

    /** Closes, through a running node's management API, the connections whose client-provided name matches. */
    /**
     * @return what a surviving node's management API says of a queue (leader, members, online members, state,
     *         messages ready and unacknowledged), or a line saying no node answered
     */
    public String describeQueue(String queue) {
        for (Node n : nodes) {
            try {
                JsonNode q = n.management.getJson("/api/queues/%2F/" + Urls.encodePathSegment(queue));
                return "leader " + q.path("leader").asText(q.path("node").asText("?")) + ", members "
                        + q.path("members") + ", online " + q.path("online") + ", state " + q.path("state").asText()
                        + ", ready " + q.path("messages_ready").asLong() + ", unacked "
                        + q.path("messages_unacknowledged").asLong() + " (asked " + n.name + ")";
            } catch (RuntimeException unreachable) {
                // that node is down: ask the next
            }
        }
        return "no node answered";
    }

    public int closeConnections(java.util.function.Predicate<String> name) {
        for (Node n : nodes) {
            try {
                return n.management.closeConnections(name, "matching");
            } catch (RuntimeException unreachable) {
                // next node
            }
        }
        return 0;
    }

    /** Whether every node runs and sees the others. */
    public boolean healthy() {
        for (Node n : nodes) {
            try {
                JsonNode all = n.management.getJson("/api/nodes");
                int running = 0;
                for (JsonNode node : all) {
                    running += node.path("running").asBoolean() ? 1 : 0;
                }
                return running == nodes.size();
            } catch (RuntimeException unreachable) {
                // next
            }
        }
        return false;
    }

    /** Boots in a second or third try a node whose VM ended during its boot. */
    private static final int BOOT_ATTEMPTS = 3;

    /**
     * Starts the node's VM and waits until RabbitMQ runs in it. A VM that ends during its boot is started again,
     * at most {@value #BOOT_ATTEMPTS} times in all: RabbitMQ 3.10 nodes of a cluster that boot at once can fail
     * while syncing feature flags with a peer that is itself still booting ({@code incompatible_feature_flags},
     * {@code badmap undefined} in the startup log); the failed attempt's log is kept as
     * {@code startup-attempt-<n>.log}.
     */
    private void boot(Node n) {
        for (int attempt = 1;; attempt++) {
            try {
                bootOnce(n);
                return;
            } catch (IllegalStateException e) {
                boolean ended = awaitExit(n.server.toHandle(), Duration.ofSeconds(10));
                if (!ended || attempt >= BOOT_ATTEMPTS) {
                    throw e;
                }
                try {
                    Files.move(n.dir.resolve("startup.log"), n.dir.resolve("startup-attempt-" + attempt + ".log"),
                            java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                } catch (IOException moveFailed) {
                    // the next attempt writes over it
                }
                log(n.name + " ended during its boot (attempt " + attempt + ": " + e.getMessage() + "); starting it "
                        + "again");
            }
        }
    }

    private void bootOnce(Node n) {
        try {
            Files.deleteIfExists(n.dir.resolve("pid"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        n.server = Processes.launch(List.of(sbin.resolve("rabbitmq-server").toString()), n.config.env(),
                n.dir.resolve("startup.log"));
        await().atMost(START_TIMEOUT).pollInterval(Duration.ofMillis(200)).until(() -> {
            if (!n.server.isAlive() && !Files.exists(n.dir.resolve("pid"))) {
                throw new IllegalStateException(n.name + " exited before writing its pid file; see " + n.dir);
            }
            return Files.exists(n.dir.resolve("pid"));
        });
        ctlOrFail(n, "wait", n.dir.resolve("pid").toString(), "--timeout", String.valueOf(START_TIMEOUT.toSeconds()));
        log("node " + n.name + " running (amqp " + n.amqpPort() + ")");
    }

    private int ctl(Node n, String... args) {
        List<String> command = new ArrayList<>(List.of(sbin.resolve("rabbitmqctl").toString(), "-n", n.name));
        command.addAll(List.of(args));
        return Processes.run(command, n.config.env(), n.dir.resolve("rabbitmqctl.log"),
                START_TIMEOUT.plusSeconds(30));
    }

    private void ctlOrFail(Node n, String... args) {
        int rc = ctl(n, args);
        if (rc != 0) {
            throw new IllegalStateException("rabbitmqctl -n " + n.name + " " + String.join(" ", args) + " failed (exit "
                    + rc + "); see " + n.dir.resolve("rabbitmqctl.log"));
        }
    }

    /** Stops every node (SIGTERM, then SIGKILL) and deletes their data; logs stay. Idempotent. */
    @Override
    public synchronized void close() {
        for (Node n : nodes) {
            NodeProcesses.find(n.dir).ifPresent(p -> {
                p.destroy();
                if (!awaitExit(p, Duration.ofSeconds(10))) {
                    p.destroyForcibly();
                }
            });
            Support.deleteRecursively(n.dir.resolve("mnesia"));
        }
    }
}
