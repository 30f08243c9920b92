package dev.eventline.testsupport;

import static dev.eventline.testsupport.Support.log;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;

/**
 * The RabbitMQ broker the tests run against: one per JVM, provisioned on first use.
 *
 * <p>Provisioning order:
 * <ol>
 * <li>{@code RABBITMQ_URL} (amqp://user:pass@host:port/vhost) is set: that broker is used as is and never
 * reconfigured; its management API is {@code RABBITMQ_MANAGEMENT_URL}, else {@code http://<host>:15672}.</li>
 * <li>a Docker engine answers: a Testcontainers {@link DockerBroker#IMAGE} container.</li>
 * <li>RabbitMQ is installed ({@code rabbitmq-server}): a private node on free loopback ports with its files under
 * {@code target/rabbitmq/<nodename>/}, stopped at JVM exit.</li>
 * </ol>
 * Between (2) and (3) the choice can be forced with the system property {@code eventline.test.broker} or the
 * environment variable {@code EVENTLINE_TEST_BROKER}: {@code docker} or {@code local} ({@code auto} is the default).
 *
 * <p>The instance is shared JVM-wide, also across class loaders (Quarkus loads {@code @QuarkusTest} classes and test
 * resources in its own class loader, which gives this class a second set of statics): the first provisioning
 * publishes its coordinates as system properties and every later {@link #get()}, in any class loader, adopts them.
 *
 * <p>The work is done by package-private classes: {@link ExternalBroker}, {@link DockerBroker} and {@link LocalNode}
 * (with {@link Leftovers} of earlier runs) provision, {@link ManagementApi} talks to the management HTTP API.
 */
public final class TestBroker {

    private static final String PROP = "dev.eventline.testsupport.TestBroker.";
    /** The system properties {@link #publish()} sets. */
    private static final List<String> PUBLISHED = List.of("amqpUrl", "managementUrl", "managementUser",
            "managementPassword", "description", "control");
    /** A string literal is interned: the same monitor in every class loader of the JVM. */
    private static final String JVM_LOCK = "dev.eventline.testsupport.TestBroker.jvm-lock";
    private static final List<String> MODES = List.of("auto", "docker", "local");

    private static TestBroker instance;

    private final String amqpUrl;
    private final ManagementApi management;
    private final String description;
    /** What to run on {@link #stop()}; null when this instance adopted a broker it did not start. */
    private final Runnable stopAction;
    private final AtomicBoolean stopped = new AtomicBoolean();
    /**
     * rabbitmqctl for a broker this JVM started (also when another class loader of this JVM started it); null
     * for a broker it did not start, which is never reconfigured.
     */
    private NodeControl control;

    TestBroker(String amqpUrl, ManagementApi management, String description, Runnable stopAction) {
        this.amqpUrl = amqpUrl;
        this.management = management;
        this.description = description;
        this.stopAction = stopAction;
    }

    TestBroker withControl(NodeControl ctl) {
        this.control = ctl;
        return this;
    }

    /**
     * Whether this JVM started the broker, so tests may reconfigure it ({@link #memoryAlarm}), in whichever class
     * loader (Quarkus gives each test profile its own) provisioned it first.
     */
    public boolean isPrivate() {
        return control != null;
    }

    /**
     * Skips the calling test, saying so in the build's output, unless this JVM started the broker: for tests that
     * restart or reconfigure it, which is never done to a broker the project did not start.
     *
     * @param what what the test does to the broker, for the message
     */
    public void assumePrivate(String what) {
        if (!isPrivate()) {
            Support.log("SKIPPED: a test " + what + ", which is done only to a broker this JVM started, not to "
                    + description + " (unset RABBITMQ_URL to run it on a private node)");
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(isPrivate(), "needs a private broker node: it " + what);
    }

    /**
     * Raises (true) or clears (false) a memory alarm on a broker this JVM started, by moving its memory
     * high watermark: the broker then blocks publishing connections. Refused for a broker it did not start.
     */
    public void memoryAlarm(boolean on) {
        if (control == null) {
            throw new IllegalStateException("refusing to reconfigure " + description + ": this JVM did not start it");
        }
        int rc = control.run(List.of("set_vm_memory_high_watermark", on ? "0.000001" : "0.4"));
        if (rc != 0) {
            throw new IllegalStateException("rabbitmqctl set_vm_memory_high_watermark failed (exit " + rc + ")");
        }
    }

    /**
     * Restarts the RabbitMQ application on a broker this JVM started ({@code rabbitmqctl stop_app}, then
     * {@code start_app}): every connection drops, durable queues and persistent messages stay. Refused for a
     * broker it did not start.
     */
    public void restartApp() {
        if (control == null) {
            throw new IllegalStateException("refusing to restart " + description + ": this JVM did not start it");
        }
        for (String step : List.of("stop_app", "start_app")) {
            int rc = control.run(List.of(step));
            if (rc != 0) {
                throw new IllegalStateException("rabbitmqctl " + step + " failed (exit " + rc + ")");
            }
        }
    }

    /**
     * Suspends (true) or resumes (false) the Erlang process of a queue on a broker this JVM started
     * ({@code sys:suspend}): while suspended the queue takes no publish and confirms nothing, and the broker
     * around it works on, as with a queue stuck behind a lost leader. Refused for a broker it did not start.
     */
    public void suspendQueue(String queue, boolean suspend) {
        if (control == null) {
            throw new IllegalStateException("refusing to suspend a queue of " + description + ": this JVM did not start it");
        }
        String name = queue.replace("\\", "\\\\").replace("\"", "\\\"");
        String expression = "{ok, Q} = rabbit_amqqueue:lookup(rabbit_misc:r(<<\"/\">>, queue, <<\"" + name + "\">>)), "
                + "P = case amqqueue:get_pid(Q) of {RaName, _Node} -> RaName; Pid -> Pid end, "
                + "sys:" + (suspend ? "suspend" : "resume") + "(P).";
        int rc = control.run(List.of("eval", expression));
        if (rc != 0) {
            throw new IllegalStateException("rabbitmqctl eval sys:" + (suspend ? "suspend" : "resume") + " of queue "
                    + queue + " failed (exit " + rc + ")");
        }
    }

    /** The broker of this JVM, provisioned on the first call. A failed provisioning is not retried. */
    public static synchronized TestBroker get() {
        if (instance == null) {
            synchronized (JVM_LOCK) {
                String failure = System.getProperty(PROP + "failure");
                if (failure != null) {
                    throw new IllegalStateException("test broker provisioning already failed in this JVM: " + failure);
                }
                instance = adopt().orElseGet(TestBroker::provisionAndPublish);
            }
        }
        return instance;
    }

    /** e.g. {@code amqp://guest:guest@127.0.0.1:35672/%2F} */
    public String amqpUrl() {
        return amqpUrl;
    }

    /** e.g. {@code http://127.0.0.1:35673}, without trailing slash */
    public String managementUrl() {
        return management.url;
    }

    /** Which broker is used and how it was provisioned. */
    public String description() {
        return description;
    }

    /** A new factory configured from {@link #amqpUrl()} (client defaults otherwise, automatic recovery included). */
    public ConnectionFactory connectionFactory() {
        ConnectionFactory factory = new ConnectionFactory();
        try {
            factory.setUri(amqpUrl);
        } catch (Exception e) {
            throw new IllegalStateException("invalid AMQP URL " + Urls.redact(amqpUrl) + ": " + e.getMessage(), e);
        }
        return factory;
    }

    /**
     * Closes, through the management HTTP API, every connection whose client-provided name
     * ({@code client_properties.connection_name}) starts with {@code connectionNamePrefix}.
     * The management API lists a connection only once its statistics have been emitted (up to a few seconds
     * after it opened): callers that just opened one should retry until it is counted.
     *
     * @return how many connections were closed
     */
    public int closeConnections(String connectionNamePrefix) {
        return management.closeConnections(connectionNamePrefix);
    }

    /**
     * @return the numbers of the open channels of the connections named so (the management API's view, which
     *         lags by its statistics interval)
     */
    public java.util.Set<Integer> channelNumbers(String connectionName) {
        return management.channelNumbers(connectionName);
    }

    /**
     * Closes every connection of one application instance (names end with {@code @<instance>}), as a network
     * blip or a proxy reset does, and nothing of other runs that share the broker.
     *
     * @return how many connections were closed
     */
    public int closeConnectionsOf(String instance) {
        return management.closeConnections(n -> n.endsWith("@" + instance), "*@" + instance);
    }

    /**
     * Deletes every queue and exchange whose name starts with {@code prefix} (a run's own, unique prefix), in
     * the vhost of {@link #amqpUrl()}: what a run leaves on a broker it shares with others.
     *
     * @return how many were deleted
     */
    public int deleteByPrefix(String prefix) {
        if (prefix == null || prefix.length() < 4) {
            throw new IllegalArgumentException("refusing to delete by a prefix this short: '" + prefix + "'");
        }
        return management.deleteByPrefix(connectionFactory().getVirtualHost(), prefix);
    }

    /**
     * A queue's message count (ready and unacknowledged) as the management API reports it, in the vhost of
     * {@link #amqpUrl()}. The API refreshes its statistics every few seconds (every 0.5 s on a private node).
     */
    public long queueMessages(String queue) {
        String vhost = connectionFactory().getVirtualHost();
        return management.queueMessages(vhost, queue);
    }

    /** @return a queue's type as the management API reports it ({@code classic}, {@code quorum}, ...) */
    public String queueType(String queue) {
        return management.queueType(connectionFactory().getVirtualHost(), queue);
    }

    /** Stops what this instance started (nothing for an external broker). Idempotent. */
    public void stop() {
        if (!stopped.compareAndSet(false, true)) {
            return;
        }
        if (stopAction != null) {
            synchronized (JVM_LOCK) {
                for (String key : PUBLISHED) {
                    System.clearProperty(PROP + key);
                }
            }
            stopAction.run();
        }
    }

    @Override
    public String toString() {
        return description;
    }

    // ------------------------------------------------------------------ sharing across class loaders

    private static Optional<TestBroker> adopt() {
        String url = System.getProperty(PROP + "amqpUrl");
        if (url == null) {
            return Optional.empty();
        }
        ManagementApi management = new ManagementApi(System.getProperty(PROP + "managementUrl"),
                System.getProperty(PROP + "managementUser"), System.getProperty(PROP + "managementPassword"));
        TestBroker adopted = new TestBroker(url, management, System.getProperty(PROP + "description"), null);
        return Optional.of(adopted.withControl(NodeControl.parse(System.getProperty(PROP + "control"))));
    }

    private static TestBroker provisionAndPublish() {
        TestBroker broker;
        try {
            broker = provision();
        } catch (RuntimeException | Error e) {
            System.setProperty(PROP + "failure", String.valueOf(e.getMessage()));
            throw e;
        }
        broker.publish();
        return broker;
    }

    private void publish() {
        System.setProperty(PROP + "managementUrl", management.url);
        System.setProperty(PROP + "managementUser", management.user);
        System.setProperty(PROP + "managementPassword", management.password);
        System.setProperty(PROP + "description", description);
        if (control != null) {
            // every class loader of this JVM may then reconfigure the node this JVM started (a memory alarm,
            // TerraformBrokerTest's users); a broker adopted from outside never gets one
            System.setProperty(PROP + "control", control.format());
        }
        System.setProperty(PROP + "amqpUrl", amqpUrl); // last: adopt() keys on it
    }

    // ------------------------------------------------------------------ provisioning

    private static TestBroker provision() {
        String url = Support.env("RABBITMQ_URL");
        String mode = Optional.ofNullable(System.getProperty("eventline.test.broker"))
                .or(() -> Optional.ofNullable(Support.env("EVENTLINE_TEST_BROKER")))
                .map(s -> s.trim().toLowerCase(Locale.ROOT))
                .orElse("auto");
        if (!MODES.contains(mode)) {
            throw new IllegalStateException(
                    "eventline.test.broker / EVENTLINE_TEST_BROKER must be auto, docker or local, not " + mode);
        }
        TestBroker broker = url != null ? ExternalBroker.of(url) : start(mode);
        try {
            broker.verifyReachable();
        } catch (RuntimeException e) {
            broker.stop();
            throw e;
        }
        log("using " + broker.description);
        return broker;
    }

    /** A Docker container, else a private local node, as mode allows. */
    private static TestBroker start(String mode) {
        if (!mode.equals("local") && dockerAvailable()) {
            return startContainer(mode);
        }
        if (mode.equals("docker")) {
            throw new IllegalStateException("eventline.test.broker=docker, but no Docker engine answers");
        }
        Path sbin = RabbitmqInstall.findSbin().orElseThrow(() -> new IllegalStateException(
                "No RabbitMQ broker for the tests. Either set RABBITMQ_URL "
                + "(amqp://user:pass@host:port/vhost, vhost URL-encoded, e.g. %2F; optionally "
                + "RABBITMQ_MANAGEMENT_URL) to an external broker with the management plugin, or start a Docker engine "
                + "(Testcontainers then runs " + DockerBroker.IMAGE + "), or install RabbitMQ "
                + "(apt-get install rabbitmq-server on Debian/Ubuntu; or set RABBITMQ_HOME) so that a private "
                + "node can be started under target/rabbitmq."));
        return LocalNode.startBroker(sbin);
    }

    /** A Docker container; in auto mode a private local node when the container fails and RabbitMQ is installed. */
    private static TestBroker startContainer(String mode) {
        try {
            return DockerBroker.start();
        } catch (RuntimeException | LinkageError e) {
            Optional<Path> sbin = mode.equals("docker") ? Optional.empty() : RabbitmqInstall.findSbin();
            if (sbin.isEmpty()) {
                throw e;
            }
            log("the Testcontainers broker failed (" + e + "); falling back to a private local node");
            return LocalNode.startBroker(sbin.get());
        }
    }

    private static boolean dockerAvailable() {
        try {
            return DockerBroker.dockerAvailable();
        } catch (LinkageError | RuntimeException e) {
            log("Testcontainers cannot check for Docker (" + e + "): skipping it");
            return false;
        }
    }

    /** Fails provisioning at once, saying why, when the broker does not take an AMQP connection. */
    private void verifyReachable() {
        ConnectionFactory factory = connectionFactory();
        factory.setAutomaticRecoveryEnabled(false);
        factory.setConnectionTimeout(15_000);
        try (Connection connection = factory.newConnection("eventline-testbroker-check")) {
            connection.createChannel().close();
        } catch (IOException | TimeoutException e) {
            throw new IllegalStateException("cannot open an AMQP connection to " + description + ": " + e, e);
        }
    }
}
