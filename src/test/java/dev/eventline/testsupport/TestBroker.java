package dev.eventline.testsupport;

import static dev.eventline.testsupport.Support.log;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.ShutdownSignalException;

/**
 * The RabbitMQ broker the tests run against: one per JVM, provisioned on first use.
 *
 * <p>Provisioning order:
 * <ol>
 * <li>{@code RABBITMQ_URL} (amqp://user:pass@host:port/vhost) is set: that broker is used as is and never
 * reconfigured; its management API is {@code RABBITMQ_MANAGEMENT_URL}, else {@code http://<host>:15672}.</li>
 * <li>a Docker engine answers: a Testcontainers {@code rabbitmq:3.13-management} container with the
 * consistent-hash plugin enabled.</li>
 * <li>RabbitMQ is installed ({@code rabbitmq-server}): a private node on free loopback ports with its files under
 * {@code target/rabbitmq/<nodename>/}, stopped at JVM exit.</li>
 * </ol>
 * Between (2) and (3) the choice can be forced with the system property {@code eventline.test.broker} or the
 * environment variable {@code EVENTLINE_TEST_BROKER}: {@code docker} or {@code local} ({@code auto} is the default).
 * Whichever broker it is must support the {@link #CONSISTENT_HASH} exchange type, else provisioning fails.
 *
 * <p>The instance is shared JVM-wide, also across class loaders (Quarkus loads {@code @QuarkusTest} classes and test
 * resources in its own class loader, which gives this class a second set of statics): the first provisioning
 * publishes its coordinates as system properties and every later {@link #get()}, in any class loader, adopts them.
 *
 * <p>The work is done by package-private classes: {@link ExternalBroker}, {@link DockerBroker} and {@link LocalNode}
 * (with {@link Leftovers} of earlier runs) provision, {@link ManagementApi} talks to the management HTTP API.
 */
public final class TestBroker {

    /** The consistent-hash exchange type the project needs. */
    public static final String CONSISTENT_HASH = "x-consistent-hash";

    private static final String PROP = "dev.eventline.testsupport.TestBroker.";
    /** The system properties {@link #publish()} sets. */
    private static final List<String> PUBLISHED = List.of("amqpUrl", "managementUrl", "managementUser",
            "managementPassword", "description");
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
    /** rabbitmqctl for a broker this JVM started; null for one it adopted (never reconfigured). */
    private java.util.function.ToIntFunction<List<String>> control;

    TestBroker(String amqpUrl, ManagementApi management, String description, Runnable stopAction) {
        this.amqpUrl = amqpUrl;
        this.management = management;
        this.description = description;
        this.stopAction = stopAction;
    }

    TestBroker withControl(java.util.function.ToIntFunction<List<String>> ctl) {
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
     * Raises (true) or clears (false) a memory alarm on a broker this JVM started, by moving its memory
     * high watermark: the broker then blocks publishing connections. Refused for a broker it did not start.
     */
    public void memoryAlarm(boolean on) {
        if (control == null) {
            throw new IllegalStateException("refusing to reconfigure " + description + ": this JVM did not start it");
        }
        int rc = control.applyAsInt(List.of("set_vm_memory_high_watermark", on ? "0.000001" : "0.4"));
        if (rc != 0) {
            throw new IllegalStateException("rabbitmqctl set_vm_memory_high_watermark failed (exit " + rc + ")");
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
     * A queue's message count (ready and unacknowledged) as the management API reports it, in the vhost of
     * {@link #amqpUrl()}. The API refreshes its statistics every few seconds (every 0.5 s on a private node).
     */
    public long queueMessages(String queue) {
        String vhost = connectionFactory().getVirtualHost();
        return management.queueMessages(vhost, queue);
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
        // the rabbitmqctl of a node this JVM started, published by the class loader that started it
        if (System.getProperties().get(PROP + "control") instanceof java.util.function.ToIntFunction<?> control) {
            @SuppressWarnings("unchecked")
            java.util.function.ToIntFunction<List<String>> ctl = (java.util.function.ToIntFunction<List<String>>) control;
            adopted.withControl(ctl);
        }
        return Optional.of(adopted);
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
        if (control != null) {
            // an object, not a string: every class loader of this JVM may then reconfigure the node this JVM started
            // (a memory alarm, TerraformBrokerTest's users); a broker adopted from outside never gets one
            System.getProperties().put(PROP + "control", control);
        }
        System.setProperty(PROP + "managementUrl", management.url);
        System.setProperty(PROP + "managementUser", management.user);
        System.setProperty(PROP + "managementPassword", management.password);
        System.setProperty(PROP + "description", description);
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
            broker.verifyConsistentHash();
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
                + "RABBITMQ_MANAGEMENT_URL) to an external broker that has the consistent-hash plugin enabled "
                + "(rabbitmq-plugins enable rabbitmq_consistent_hash_exchange), or start a Docker engine "
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

    private void verifyConsistentHash() {
        ConnectionFactory factory = connectionFactory();
        factory.setAutomaticRecoveryEnabled(false);
        factory.setConnectionTimeout(15_000);
        Connection connection;
        try {
            connection = factory.newConnection("eventline-testbroker-check");
        } catch (IOException | TimeoutException e) {
            throw new IllegalStateException("cannot open an AMQP connection to " + description + ": " + e, e);
        }
        String exchange = "eventline.testbroker.check." + UUID.randomUUID();
        try (connection) {
            Channel channel = connection.createChannel();
            try {
                channel.exchangeDeclare(exchange, CONSISTENT_HASH, false, true, null);
            } catch (IOException e) {
                String reason = e.getCause() instanceof ShutdownSignalException s ? s.getMessage() : e.toString();
                throw new IllegalStateException("The broker (" + description + ") does not support the exchange type "
                        + CONSISTENT_HASH + ": run `rabbitmq-plugins enable rabbitmq_consistent_hash_exchange` on it ("
                        + reason + ")", e);
            }
            channel.exchangeDelete(exchange);
        } catch (IOException e) {
            throw new UncheckedIOException("consistent-hash check on " + description + " failed", e);
        }
    }
}
