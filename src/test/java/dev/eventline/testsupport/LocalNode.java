package dev.eventline.testsupport;

import static dev.eventline.testsupport.Processes.awaitExit;
import static dev.eventline.testsupport.Support.log;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.regex.Pattern;

import org.awaitility.core.ConditionTimeoutException;

import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;

/**
 * A private node of the installed rabbitmq-server: on free loopback ports, with its files under
 * {@code target/rabbitmq/<nodename>/}, isolated from a system broker's configuration, stopped at JVM exit.
 */
final class LocalNode {

    /** The directory (and node) name: {@code eventline-<pid of the JVM>-<random>}, without spaces. */
    static final Pattern NODE_DIR = Pattern.compile("eventline-(\\d+)-[0-9a-z]+");
    private static final Duration START_TIMEOUT = Duration.ofSeconds(120);
    private static final Duration VERIFY_TIMEOUT = Duration.ofSeconds(30);
    private static final int START_ATTEMPTS = 3;

    private final Path sbin;
    private final Path dir;
    private final String nodeName;
    private final AtomicBoolean stopped = new AtomicBoolean();
    /** Its ports and environment, once {@link #start()} has written its files. */
    private NodeConfig config;
    /** Lines appended to the node's rabbitmq.conf (e.g. a TLS listener); empty for the shared broker. */
    private String extraConf = "";
    /** The rabbitmq-server script (a shell that waits for the Erlang VM). */
    private Process server;

    private long startedMillis;

    private LocalNode(Path sbin, Path dir, String nodeName) {
        this.sbin = sbin;
        this.dir = dir;
        this.nodeName = nodeName;
    }

    /** Stops leftovers of earlier runs, then starts a node (other ports on a port clash, up to 3 attempts). */
    static TestBroker startBroker(Path sbin) {
        LocalNode node = startNode(sbin, "");
        return node.broker(RabbitmqInstall.version(sbin), node.startedMillis);
    }

    /**
     * A node of one test's own, with these lines added to its rabbitmq.conf (e.g. a TLS listener), stopped by
     * {@link #stop()} or at JVM exit; never the JVM's shared broker.
     */
    static LocalNode startNode(Path sbin, String extraConf) {
        Path base = projectDir().resolve("target").resolve("rabbitmq").toAbsolutePath().normalize();
        String version = RabbitmqInstall.version(sbin);
        log("starting a private RabbitMQ " + version + " node from " + sbin + " under " + base);
        Leftovers.cleanUp(base, sbin);
        for (int attempt = 1; ; attempt++) {
            String name = "eventline-" + ProcessHandle.current().pid() + "-"
                    + Long.toString(ThreadLocalRandom.current().nextLong(36L * 36 * 36 * 36 * 36 * 36), 36);
            LocalNode node = new LocalNode(sbin, base.resolve(name), name + "@localhost");
            node.extraConf = extraConf;
            try {
                node.startedMillis = node.start();
                return node;
            } catch (NodeStartFailure.PortClash e) {
                if (attempt >= START_ATTEMPTS) {
                    throw new IllegalStateException(e.getMessage(), e);
                }
                log("port clash, retrying with other ports: " + e.getMessage());
            }
        }
    }

    private TestBroker broker(String version, long ms) {
        String amqp = "amqp://guest:guest@127.0.0.1:" + config.amqpPort() + "/%2F";
        String management = "http://127.0.0.1:" + config.managementPort();
        return new TestBroker(amqp, new ManagementApi(management, "guest", "guest"),
                "private RabbitMQ " + version + " node " + nodeName + " (amqp 127.0.0.1:" + config.amqpPort()
                        + ", management " + management + ", files " + dir + "), started in " + ms + " ms",
                this::stop).withControl(new NodeControl(sbin, dir, nodeName));
    }

    /** The node's directory, for files its configuration names (certificates). */
    Path dir() {
        return dir;
    }

    NodeConfig config() {
        return config;
    }

    /** Where Surefire runs (basedir), else the working directory. */
    private static Path projectDir() {
        String basedir = System.getProperty("basedir"); // set by Surefire
        if (basedir != null && Files.isDirectory(Paths.get(basedir))) {
            return Paths.get(basedir);
        }
        return Paths.get(System.getProperty("user.dir"));
    }

    /** Starts the node; returns the time it took in ms. */
    private long start() {
        long t0 = System.nanoTime();
        Support.addShutdownHook(this::stop); // first: whatever happens below, the node is stopped at JVM exit
        config = NodeConfig.write(dir, nodeName);
        if (!extraConf.isEmpty()) {
            try {
                Files.writeString(dir.resolve("rabbitmq.conf"), extraConf, StandardOpenOption.APPEND);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        Map<String, String> env = config.env();
        log("starting node " + nodeName + ": amqp 127.0.0.1:" + config.amqpPort() + ", management 127.0.0.1:"
                + config.managementPort() + ", distribution " + config.distPort() + ", files " + dir);

        // In the foreground (not -detached, which sends the VM's output to /dev/null), as a child whose output
        // goes to startup.log: errors before the node's logging is up (bad config, distribution port in use)
        // end up there, and a node that dies is noticed at once. The node outlives this JVM if it is killed:
        // the next run stops it (Leftovers).
        server = Processes.launch(List.of(sbin.resolve("rabbitmq-server").toString()), env,
                dir.resolve("startup.log"));
        awaitPidFile(t0);
        long remaining = START_TIMEOUT.toSeconds() - TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);
        int rc = Processes.run(List.of(sbin.resolve("rabbitmqctl").toString(), "-n", nodeName, "wait",
                dir.resolve("pid").toString(), "--timeout", String.valueOf(Math.max(remaining, 10))),
                env, dir.resolve("rabbitmqctl.log"), Duration.ofSeconds(Math.max(remaining, 10) + 30));
        if (rc != 0) {
            throw failure("`rabbitmqctl wait` failed (exit " + rc + ") within " + START_TIMEOUT.toSeconds() + " s");
        }
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        verifyAmqp();
        verifyManagement();
        log("node " + nodeName + " is up: started in " + ms + " ms (pid "
                + NodeProcesses.readPid(dir).orElse(-1L) + ")");
        return ms;
    }

    /** Fails fast when the node died before writing its pid file (bad config, port in use, ...). */
    private void awaitPidFile(long t0) {
        Path pidFile = dir.resolve("pid");
        try {
            await().atMost(START_TIMEOUT).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(100)).until(() -> {
                if (!server.isAlive() && !Files.exists(pidFile)) {
                    throw failure("rabbitmq-server exited (" + server.exitValue() + ") before writing its pid file");
                }
                return Files.exists(pidFile);
            });
        } catch (ConditionTimeoutException e) {
            throw failure("no pid file after " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0) + " ms");
        }
    }

    private void verifyAmqp() {
        ConnectionFactory factory = new ConnectionFactory();
        factory.setHost("127.0.0.1");
        factory.setPort(config.amqpPort());
        factory.setAutomaticRecoveryEnabled(false);
        Optional<String> problem = poll(() -> {
            try (Connection c = factory.newConnection("eventline-testbroker-verify")) {
                c.createChannel().close();
                return Optional.empty();
            } catch (IOException | TimeoutException e) {
                return Optional.of(e.toString());
            }
        });
        if (problem.isPresent()) {
            throw failure("the node answers rabbitmqctl but not AMQP on 127.0.0.1:" + config.amqpPort() + ": "
                    + problem.get());
        }
    }

    private void verifyManagement() {
        ManagementApi api = new ManagementApi("http://127.0.0.1:" + config.managementPort(), "guest", "guest",
                Duration.ofSeconds(5), Duration.ofSeconds(10));
        Optional<String> problem = poll(() -> api.problem("/api/overview"));
        if (problem.isPresent()) {
            throw failure("the management API on 127.0.0.1:" + config.managementPort() + " does not answer: "
                    + problem.get());
        }
    }

    /**
     * Runs check every 250 ms until it finds no problem (returns empty) or {@link #VERIFY_TIMEOUT} has passed
     * (returns the last problem).
     */
    private static Optional<String> poll(Supplier<Optional<String>> check) {
        AtomicReference<Optional<String>> last = new AtomicReference<>();
        try {
            await().atMost(VERIFY_TIMEOUT).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(250))
                    .until(() -> {
                        last.set(check.get());
                        return last.get().isEmpty();
                    });
        } catch (ConditionTimeoutException e) {
            // the last problem says why
        }
        return last.get();
    }

    /** Stops the node (idempotent): its data is deleted, its logs are kept for a post-mortem. */
    void stop() {
        if (!stopped.compareAndSet(false, true)) {
            return;
        }
        long t0 = System.nanoTime();
        terminate();
        if (server != null && !awaitExit(server.toHandle(), Duration.ofSeconds(5))) {
            server.destroyForcibly();
        }
        // keep the logs for a post-mortem (the next run deletes them), drop the data
        Support.deleteRecursively(dir.resolve("mnesia"));
        stopNote("node " + nodeName + " stopped in " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)
                + " ms; logs kept in " + dir.resolve("log"));
    }

    /**
     * SIGTERM: the Erlang VM's own graceful stop (init:stop), without the 1-2 s of booting rabbitmqctl; bounded,
     * then SIGKILL: its data is thrown away anyway, and Surefire gives a forked JVM 30 s to exit.
     */
    private void terminate() {
        Optional<ProcessHandle> process = NodeProcesses.find(dir);
        if (process.isEmpty() || !process.get().isAlive()) {
            stopNote("node " + nodeName + " is not running: nothing to stop");
            return;
        }
        ProcessHandle p = process.get();
        stopNote("sending SIGTERM to node " + nodeName + " (pid " + p.pid() + ")");
        p.destroy();
        if (!awaitExit(p, Duration.ofSeconds(10))) {
            stopNote("node " + nodeName + " still runs 10 s after SIGTERM: sending SIGKILL to " + p.pid());
            p.destroyForcibly();
            awaitExit(p, Duration.ofSeconds(5));
        }
    }

    /** Logs, and also into stop.log: at JVM exit Surefire no longer relays a fork's stderr. */
    private void stopNote(String message) {
        log(message);
        try {
            Files.writeString(dir.resolve("stop.log"), Instant.now() + " " + message + "\n",
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException ignored) {
            // the directory is gone (e.g. mvn clean): nothing to record into
        }
    }

    /** The failure to throw (a {@link NodeStartFailure.PortClash} when the files tell so), after stopping the node. */
    private NodeStartFailure failure(String what) {
        NodeStartFailure failure = NodeStartFailure.of(nodeName, dir, what);
        stop();
        return failure;
    }
}
