package dev.eventline.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
 *
 * <p>The instance is shared JVM-wide, also across class loaders (Quarkus loads {@code @QuarkusTest} classes and test
 * resources in its own class loader, which gives this class a second set of statics): the first provisioning
 * publishes its coordinates as system properties and every later {@link #get()}, in any class loader, adopts them.
 */
public final class TestBroker {

    /** The consistent-hash exchange type the project needs. */
    public static final String CONSISTENT_HASH = "x-consistent-hash";

    static final String DOCKER_IMAGE = "rabbitmq:3.13-management";
    private static final String LOG_PREFIX = "[TestBroker] ";
    private static final String PROP = "dev.eventline.testsupport.TestBroker.";
    /** A string literal is interned: the same monitor in every class loader of the JVM. */
    private static final String JVM_LOCK = "dev.eventline.testsupport.TestBroker.jvm-lock";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration NODE_START_TIMEOUT = Duration.ofSeconds(120);

    private static TestBroker instance;

    private final String amqpUrl;
    private final String managementUrl;
    private final String managementUser;
    private final String managementPassword;
    private final String description;
    /** What to run on {@link #stop()}; null when this instance adopted a broker it did not start. */
    private final Runnable stopAction;
    private final AtomicBoolean stopped = new AtomicBoolean();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    private TestBroker(String amqpUrl, String managementUrl, String managementUser, String managementPassword,
            String description, Runnable stopAction) {
        this.amqpUrl = amqpUrl;
        this.managementUrl = stripTrailingSlash(managementUrl);
        this.managementUser = managementUser;
        this.managementPassword = managementPassword;
        this.description = description;
        this.stopAction = stopAction;
    }

    /** The broker of this JVM, provisioned on the first call. A failed provisioning is not retried. */
    public static synchronized TestBroker get() {
        if (instance == null) {
            synchronized (JVM_LOCK) {
                String failure = System.getProperty(PROP + "failure");
                if (failure != null) {
                    throw new IllegalStateException("test broker provisioning already failed in this JVM: " + failure);
                }
                TestBroker adopted = adopt();
                if (adopted != null) {
                    instance = adopted;
                } else {
                    try {
                        instance = provision();
                    } catch (RuntimeException | Error e) {
                        System.setProperty(PROP + "failure", String.valueOf(e.getMessage()));
                        throw e;
                    }
                    instance.publish();
                }
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
        return managementUrl;
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
            throw new IllegalStateException("invalid AMQP URL " + redact(amqpUrl) + ": " + e.getMessage(), e);
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
        JsonNode connections = getJson("/api/connections");
        int closed = 0;
        for (JsonNode connection : connections) {
            JsonNode clientName = connection.path("client_properties").path("connection_name");
            String name = connection.path("name").textValue();
            if (!clientName.isTextual() || !clientName.textValue().startsWith(connectionNamePrefix) || name == null) {
                continue;
            }
            HttpRequest request = managementRequest("/api/connections/" + encodePathSegment(name))
                    .header("X-Reason", "test")
                    .DELETE()
                    .build();
            HttpResponse<String> response = send(request);
            if (response.statusCode() / 100 == 2) {
                closed++;
            } else if (response.statusCode() != 404) { // 404: it closed in the meantime
                throw new IllegalStateException("DELETE " + request.uri() + " answered " + response.statusCode()
                        + ": " + response.body());
            }
        }
        if (closed > 0) {
            log("closed " + closed + " connection(s) named " + connectionNamePrefix + "*");
        }
        return closed;
    }

    /** Stops what this instance started (nothing for an external broker). Idempotent. */
    public void stop() {
        if (!stopped.compareAndSet(false, true)) {
            return;
        }
        if (stopAction != null) {
            synchronized (JVM_LOCK) {
                for (String key : List.of("amqpUrl", "managementUrl", "managementUser", "managementPassword",
                        "description")) {
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

    // ------------------------------------------------------------------ provisioning

    private static TestBroker adopt() {
        String url = System.getProperty(PROP + "amqpUrl");
        if (url == null) {
            return null;
        }
        return new TestBroker(url, System.getProperty(PROP + "managementUrl"),
                System.getProperty(PROP + "managementUser"), System.getProperty(PROP + "managementPassword"),
                System.getProperty(PROP + "description"), null);
    }

    private void publish() {
        System.setProperty(PROP + "managementUrl", managementUrl);
        System.setProperty(PROP + "managementUser", managementUser);
        System.setProperty(PROP + "managementPassword", managementPassword);
        System.setProperty(PROP + "description", description);
        System.setProperty(PROP + "amqpUrl", amqpUrl); // last: adopt() keys on it
    }

    private static TestBroker provision() {
        TestBroker broker;
        String url = env("RABBITMQ_URL");
        String mode = Optional.ofNullable(System.getProperty("eventline.test.broker"))
                .or(() -> Optional.ofNullable(env("EVENTLINE_TEST_BROKER")))
                .map(s -> s.trim().toLowerCase(Locale.ROOT))
                .orElse("auto");
        if (!List.of("auto", "docker", "local").contains(mode)) {
            throw new IllegalStateException("eventline.test.broker / EVENTLINE_TEST_BROKER must be auto, docker or local, not " + mode);
        }
        if (url != null) {
            broker = external(url);
        } else if (!mode.equals("local") && dockerAvailable()) {
            try {
                broker = Containers.start();
            } catch (RuntimeException | LinkageError e) {
                if (mode.equals("docker") || findRabbitmqSbin() == null) {
                    throw e;
                }
                log("the Testcontainers broker failed (" + e + "); falling back to a private local node");
                broker = LocalNode.startBroker(findRabbitmqSbin());
            }
        } else if (mode.equals("docker")) {
            throw new IllegalStateException("eventline.test.broker=docker, but no Docker engine answers");
        } else {
            Path sbin = findRabbitmqSbin();
            if (sbin == null) {
                throw new IllegalStateException("No RabbitMQ broker for the tests. Either set RABBITMQ_URL "
                        + "(amqp://user:pass@host:port/vhost, vhost URL-encoded, e.g. %2F; optionally "
                        + "RABBITMQ_MANAGEMENT_URL) to an external broker that has the consistent-hash plugin enabled "
                        + "(rabbitmq-plugins enable rabbitmq_consistent_hash_exchange), or start a Docker engine "
                        + "(Testcontainers then runs " + DOCKER_IMAGE + "), or install RabbitMQ "
                        + "(apt-get install rabbitmq-server on Debian/Ubuntu; or set RABBITMQ_HOME) so that a private "
                        + "node can be started under target/rabbitmq.");
            }
            broker = LocalNode.startBroker(sbin);
        }
        try {
            broker.verifyConsistentHash();
        } catch (RuntimeException e) {
            broker.stop();
            throw e;
        }
        log("using " + broker.description);
        return broker;
    }

    private static TestBroker external(String url) {
        URI uri;
        try {
            uri = new URI(url);
        } catch (Exception e) {
            throw new IllegalStateException("RABBITMQ_URL is not a URI: " + redact(url), e);
        }
        if (uri.getHost() == null || uri.getScheme() == null || !uri.getScheme().startsWith("amqp")) {
            throw new IllegalStateException("RABBITMQ_URL must look like amqp://user:pass@host:port/vhost, not "
                    + redact(url));
        }
        String[] credentials = credentials(uri.getRawUserInfo());
        String management = env("RABBITMQ_MANAGEMENT_URL");
        String mgmtUser = credentials[0];
        String mgmtPassword = credentials[1];
        if (management == null) {
            management = "http://" + uri.getHost() + ":15672";
        } else {
            management = stripTrailingSlash(management);
            URI m = URI.create(management);
            if (m.getRawUserInfo() != null) { // http://user:pass@host:port: use and strip those credentials
                String[] c = credentials(m.getRawUserInfo());
                mgmtUser = c[0];
                mgmtPassword = c[1];
                management = management.replace(m.getRawUserInfo() + "@", "");
            }
        }
        log("RABBITMQ_URL is set: using the external broker " + redact(url) + " as is, management " + management);
        return new TestBroker(url, management, mgmtUser, mgmtPassword,
                "external broker from RABBITMQ_URL " + redact(url) + " (management " + management + ")", null);
    }

    private static boolean dockerAvailable() {
        try {
            return Containers.dockerAvailable();
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

    // ------------------------------------------------------------------ management HTTP API

    private JsonNode getJson(String path) {
        HttpRequest request = managementRequest(path).GET().build();
        HttpResponse<String> response = send(request);
        if (response.statusCode() != 200) {
            throw new IllegalStateException("GET " + request.uri() + " answered " + response.statusCode() + ": "
                    + response.body());
        }
        try {
            return JSON.readTree(response.body());
        } catch (IOException e) {
            throw new UncheckedIOException("GET " + request.uri() + " did not answer JSON", e);
        }
    }

    private HttpRequest.Builder managementRequest(String path) {
        String auth = Base64.getEncoder().encodeToString(
                (managementUser + ":" + managementPassword).getBytes(StandardCharsets.UTF_8));
        return HttpRequest.newBuilder(URI.create(managementUrl + path))
                .timeout(Duration.ofSeconds(30))
                .header("Authorization", "Basic " + auth);
    }

    private HttpResponse<String> send(HttpRequest request) {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(request.method() + " " + request.uri() + " failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    // ------------------------------------------------------------------ (b) Testcontainers

    /** Kept apart so that a missing Testcontainers jar only fails here (LinkageError), not in TestBroker. */
    private static final class Containers {

        static boolean dockerAvailable() {
            return org.testcontainers.DockerClientFactory.instance().isDockerAvailable();
        }

        static TestBroker start() {
            log("Docker answers: starting a Testcontainers " + DOCKER_IMAGE + " container");
            long t0 = System.nanoTime();
            var container = new org.testcontainers.rabbitmq.RabbitMQContainer(
                    org.testcontainers.utility.DockerImageName.parse(DOCKER_IMAGE));
            container.start();
            AtomicBoolean done = new AtomicBoolean();
            Runnable stop = () -> {
                if (done.compareAndSet(false, true)) {
                    log("stopping container " + container.getContainerId());
                    container.stop();
                }
            };
            addShutdownHook(stop);
            try {
                // the 2.x RabbitMQContainer has no withPluginsEnabled: enable it on the running node
                var result = container.execInContainer("rabbitmq-plugins", "enable",
                        "rabbitmq_consistent_hash_exchange");
                if (result.getExitCode() != 0) {
                    throw new IllegalStateException("rabbitmq-plugins enable rabbitmq_consistent_hash_exchange failed"
                            + " in the container (exit " + result.getExitCode() + "): " + result.getStdout()
                            + result.getStderr());
                }
            } catch (IOException | InterruptedException | RuntimeException e) {
                stop.run();
                if (e instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                }
                throw e instanceof RuntimeException r ? r
                        : new IllegalStateException("cannot enable the consistent-hash plugin in the container", e);
            }
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            String user = container.getAdminUsername();
            String password = container.getAdminPassword();
            String amqp = "amqp://" + encode(user) + ":" + encode(password) + "@" + container.getHost() + ":"
                    + container.getAmqpPort() + "/%2F";
            String management = container.getHttpUrl();
            log("container " + container.getContainerId() + " up in " + ms + " ms: amqp port "
                    + container.getAmqpPort() + ", management " + management);
            return new TestBroker(amqp, management, user, password,
                    "Testcontainers " + DOCKER_IMAGE + " container " + container.getContainerId() + " ("
                            + redact(amqp) + ", management " + management + "), started in " + ms + " ms",
                    stop);
        }
    }

    // ------------------------------------------------------------------ (c) private local node

    /** The RabbitMQ scripts directory of the newest install (the node's own scripts, not /usr/sbin wrappers). */
    private static Path findRabbitmqSbin() {
        List<Path> candidates = new ArrayList<>();
        String home = env("RABBITMQ_HOME");
        if (home != null) {
            candidates.add(Paths.get(home, "sbin"));
        }
        Path lib = Paths.get("/usr/lib/rabbitmq/lib");
        if (Files.isDirectory(lib)) {
            try (Stream<Path> dirs = Files.list(lib)) {
                dirs.filter(d -> d.getFileName().toString().startsWith("rabbitmq_server-"))
                        .sorted(Comparator.comparing((Path d) -> versionKey(d.getFileName().toString())).reversed())
                        .map(d -> d.resolve("sbin"))
                        .forEach(candidates::add);
            } catch (IOException e) {
                log("cannot list " + lib + ": " + e);
            }
        }
        return candidates.stream()
                .filter(s -> Files.isExecutable(s.resolve("rabbitmq-server")) && Files.isExecutable(s.resolve("rabbitmqctl")))
                .findFirst()
                .orElse(null);
    }

    /** "rabbitmq_server-3.10.8" -> "00003.00010.00008", comparable as a string. */
    private static String versionKey(String dirName) {
        StringBuilder key = new StringBuilder();
        Matcher m = Pattern.compile("\\d+").matcher(dirName);
        while (m.find()) {
            key.append(String.format("%05d.", Long.parseLong(m.group()) % 100_000));
        }
        return key.toString();
    }

    private static final class LocalNode {

        static final Pattern NODE_DIR = Pattern.compile("eventline-(\\d+)-[0-9a-z]+");

        final Path sbin;
        final Path dir;
        final String nodeName;
        final Map<String, String> env = new LinkedHashMap<>();
        final AtomicBoolean stopped = new AtomicBoolean();
        int amqpPort;
        int managementPort;
        int distPort;
        /** The rabbitmq-server script (a shell that waits for the Erlang VM). */
        Process server;

        LocalNode(Path sbin, Path dir, String nodeName) {
            this.sbin = sbin;
            this.dir = dir;
            this.nodeName = nodeName;
        }

        static TestBroker startBroker(Path sbin) {
            Path base = projectDir().resolve("target").resolve("rabbitmq").toAbsolutePath().normalize();
            String version = sbin.getParent().getFileName().toString().replaceFirst("^rabbitmq_server-", "");
            log("starting a private RabbitMQ " + version + " node from " + sbin + " under " + base);
            cleanupLeftovers(base, sbin);
            for (int attempt = 1; ; attempt++) {
                String name = "eventline-" + ProcessHandle.current().pid() + "-"
                        + Long.toString(ThreadLocalRandom.current().nextLong(36L * 36 * 36 * 36 * 36 * 36), 36);
                LocalNode node = new LocalNode(sbin, base.resolve(name), name + "@localhost");
                try {
                    long ms = node.start();
                    String amqp = "amqp://guest:guest@127.0.0.1:" + node.amqpPort + "/%2F";
                    String management = "http://127.0.0.1:" + node.managementPort;
                    return new TestBroker(amqp, management, "guest", "guest",
                            "private RabbitMQ " + version + " node " + node.nodeName + " (amqp 127.0.0.1:"
                                    + node.amqpPort + ", management " + management + ", files " + node.dir
                                    + "), started in " + ms + " ms",
                            node::stop);
                } catch (PortClash e) {
                    if (attempt >= 3) {
                        throw new IllegalStateException(e.getMessage(), e);
                    }
                    log("port clash, retrying with other ports: " + e.getMessage());
                }
            }
        }

        /** Starts the node; returns the time it took in ms. */
        long start() {
            long t0 = System.nanoTime();
            addShutdownHook(this::stop); // first: whatever happens below, the node is stopped at JVM exit
            try {
                Files.createDirectories(dir.resolve("log"));
                Files.createDirectories(dir.resolve("conf.d"));
                ProcessHandle self = ProcessHandle.current();
                Files.writeString(dir.resolve("owner"), self.pid() + " "
                        + self.info().startInstant().map(Instant::toString).orElse("?") + "\n");
                Files.writeString(dir.resolve("enabled_plugins"),
                        "[rabbitmq_consistent_hash_exchange,rabbitmq_management].\n");
                int[] ports = freePorts(3);
                amqpPort = ports[0];
                managementPort = ports[1];
                distPort = ports[2];
                Files.writeString(dir.resolve("rabbitmq.conf"), String.join("\n",
                        "# private test node of " + self.pid() + "; the AMQP listener comes from RABBITMQ_NODE_IP_ADDRESS/PORT",
                        "management.tcp.ip = 127.0.0.1",
                        "management.tcp.port = " + managementPort,
                        "loopback_users = none",
                        "# the node runs in the foreground with its output in startup.log: log to log/ only",
                        "log.console = false",
                        "# connections show up in the management API (closeConnections) after their first stats",
                        "collect_statistics_interval = 500",
                        "") );
                // isolation from a system broker's /etc/rabbitmq/{rabbitmq-env.conf,advanced.config,conf.d}
                Files.writeString(dir.resolve("rabbitmq-env.conf"), "# empty on purpose\n");
            } catch (IOException e) {
                throw new UncheckedIOException("cannot prepare " + dir, e);
            }
            env.put("HOME", dir.toString()); // the Erlang cookie of this node and its CLI calls
            env.put("RABBITMQ_NODENAME", nodeName);
            env.put("RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1");
            env.put("RABBITMQ_NODE_PORT", String.valueOf(amqpPort));
            env.put("RABBITMQ_DIST_PORT", String.valueOf(distPort));
            env.put("RABBITMQ_MNESIA_BASE", dir.resolve("mnesia").toString());
            env.put("RABBITMQ_LOG_BASE", dir.resolve("log").toString());
            env.put("RABBITMQ_ENABLED_PLUGINS_FILE", dir.resolve("enabled_plugins").toString());
            env.put("RABBITMQ_CONFIG_FILE", dir.resolve("rabbitmq").toString());
            env.put("RABBITMQ_CONFIG_FILES", dir.resolve("conf.d").toString());
            env.put("RABBITMQ_ADVANCED_CONFIG_FILE", dir.resolve("advanced.config").toString());
            env.put("RABBITMQ_CONF_ENV_FILE", dir.resolve("rabbitmq-env.conf").toString());
            env.put("RABBITMQ_PID_FILE", dir.resolve("pid").toString());
            env.put("ERL_CRASH_DUMP", dir.resolve("erl_crash.dump").toString());
            log("starting node " + nodeName + ": amqp 127.0.0.1:" + amqpPort + ", management 127.0.0.1:"
                    + managementPort + ", distribution " + distPort + ", files " + dir);

            // In the foreground (not -detached, which sends the VM's output to /dev/null), as a child whose output
            // goes to startup.log: errors before the node's logging is up (bad config, distribution port in use)
            // end up there, and a node that dies is noticed at once. The node outlives this JVM if it is killed:
            // the next run stops it (cleanupLeftovers).
            server = launch(List.of(sbin.resolve("rabbitmq-server").toString()), env, dir.resolve("startup.log"));
            awaitPidFile(t0);
            long remaining = NODE_START_TIMEOUT.toSeconds() - TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);
            int rc = run(List.of(sbin.resolve("rabbitmqctl").toString(), "-n", nodeName, "wait",
                    dir.resolve("pid").toString(), "--timeout", String.valueOf(Math.max(remaining, 10))),
                    dir.resolve("rabbitmqctl.log"), Duration.ofSeconds(Math.max(remaining, 10) + 30));
            if (rc != 0) {
                throw failure("`rabbitmqctl wait` failed (exit " + rc + ") within "
                        + NODE_START_TIMEOUT.toSeconds() + " s");
            }
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            verifyAmqp();
            verifyManagement();
            log("node " + nodeName + " is up: started in " + ms + " ms (pid " + readPid(dir).orElse(-1L) + ")");
            return ms;
        }

        /** Fails fast when the node died before writing its pid file (bad config, port in use, ...). */
        private void awaitPidFile(long t0) {
            Path pidFile = dir.resolve("pid");
            while (!Files.exists(pidFile)) {
                long elapsed = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                if (elapsed > NODE_START_TIMEOUT.toMillis()) {
                    throw failure("no pid file after " + elapsed + " ms");
                }
                if (!server.isAlive()) {
                    throw failure("rabbitmq-server exited (" + server.exitValue() + ") before writing its pid file");
                }
                pause(100);
            }
        }

        private void verifyAmqp() {
            ConnectionFactory factory = new ConnectionFactory();
            factory.setHost("127.0.0.1");
            factory.setPort(amqpPort);
            factory.setAutomaticRecoveryEnabled(false);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (true) {
                try (Connection c = factory.newConnection("eventline-testbroker-verify")) {
                    c.createChannel().close();
                    return;
                } catch (IOException | TimeoutException e) {
                    if (System.nanoTime() > deadline) {
                        throw failure("the node answers rabbitmqctl but not AMQP on 127.0.0.1:" + amqpPort + ": " + e);
                    }
                    pause(250);
                }
            }
        }

        private void verifyManagement() {
            HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + managementPort + "/api/overview"))
                    .header("Authorization", "Basic " + Base64.getEncoder().encodeToString(
                            "guest:guest".getBytes(StandardCharsets.UTF_8)))
                    .timeout(Duration.ofSeconds(10))
                    .build();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            String last = "";
            while (System.nanoTime() < deadline) {
                try {
                    HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
                    if (response.statusCode() == 200) {
                        return;
                    }
                    last = response.statusCode() + " " + response.body();
                } catch (IOException e) {
                    last = e.toString();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted", e);
                }
                pause(250);
            }
            throw failure("the management API on 127.0.0.1:" + managementPort + " does not answer: " + last);
        }

        void stop() {
            if (!stopped.compareAndSet(false, true)) {
                return;
            }
            long t0 = System.nanoTime();
            // SIGTERM: the Erlang VM's own graceful stop (init:stop), without the 1-2 s of booting rabbitmqctl;
            // bounded, then SIGKILL: its data is thrown away anyway, and Surefire gives a forked JVM 30 s to exit
            Optional<ProcessHandle> process = readPid(dir).flatMap(ProcessHandle::of)
                    .filter(p -> isNodeProcess(p, dir))
                    .or(() -> nodeProcess(dir));
            if (process.isEmpty() || !process.get().isAlive()) {
                stopNote("node " + nodeName + " is not running: nothing to stop");
            } else {
                ProcessHandle p = process.get();
                stopNote("sending SIGTERM to node " + nodeName + " (pid " + p.pid() + ")");
                p.destroy();
                if (!awaitExit(p, Duration.ofSeconds(10))) {
                    stopNote("node " + nodeName + " still runs 10 s after SIGTERM: sending SIGKILL to " + p.pid());
                    p.destroyForcibly();
                    awaitExit(p, Duration.ofSeconds(5));
                }
            }
            if (server != null && !awaitExit(server.toHandle(), Duration.ofSeconds(5))) {
                server.destroyForcibly();
            }
            // keep the logs for a post-mortem (the next run deletes them), drop the data
            deleteRecursively(dir.resolve("mnesia"));
            stopNote("node " + nodeName + " stopped in " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)
                    + " ms; logs kept in " + dir.resolve("log"));
        }

        /** Logs, and also into stop.log: at JVM exit Surefire no longer relays a fork's stderr. */
        private void stopNote(String message) {
            log(message);
            try {
                Files.writeString(dir.resolve("stop.log"), Instant.now() + " " + message + "\n",
                        java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
            } catch (IOException ignored) {
                // the directory is gone (e.g. mvn clean): nothing to record into
            }
        }

        /** Stops a leftover node (rabbitmqctl stop, else by signal) and returns when its OS process is gone. */
        static void stopNode(Path sbin, Path dir, String nodeName, Map<String, String> env) {
            Optional<Long> pid = readPid(dir);
            Optional<ProcessHandle> process = pid.flatMap(ProcessHandle::of).filter(p -> isNodeProcess(p, dir))
                    .or(() -> nodeProcess(dir));
            if (process.isEmpty() || !process.get().isAlive()) {
                return;
            }
            List<String> command = new ArrayList<>(List.of(sbin.resolve("rabbitmqctl").toString(), "-n", nodeName,
                    "stop"));
            if (pid.isPresent()) {
                command.add(dir.resolve("pid").toString());
            }
            int rc = run(command, env, dir.resolve("stop.log"), Duration.ofSeconds(60));
            ProcessHandle p = process.get();
            if (!awaitExit(p, Duration.ofSeconds(rc == 0 ? 15 : 1))) {
                log("`rabbitmqctl stop` did not end " + nodeName + " (exit " + rc + "): sending SIGTERM to " + p.pid());
                p.destroy();
                if (!awaitExit(p, Duration.ofSeconds(15))) {
                    log("sending SIGKILL to " + p.pid());
                    p.destroyForcibly();
                    awaitExit(p, Duration.ofSeconds(5));
                }
            }
        }

        /** Stops nodes of earlier, killed runs (their JVM is gone) and deletes their files. */
        static void cleanupLeftovers(Path base, Path sbin) {
            if (Files.isDirectory(base)) {
                try (DirectoryStream<Path> dirs = Files.newDirectoryStream(base)) {
                    for (Path d : dirs) {
                        Matcher m = NODE_DIR.matcher(d.getFileName().toString());
                        if (!Files.isDirectory(d) || !m.matches()) {
                            continue;
                        }
                        if (ownerAlive(d, Long.parseLong(m.group(1)))) {
                            log("leaving " + d.getFileName() + " alone: the JVM that started it still runs");
                            continue;
                        }
                        Map<String, String> env = Map.of("HOME", d.toString(),
                                "RABBITMQ_CONF_ENV_FILE", d.resolve("rabbitmq-env.conf").toString());
                        if (readPid(d).flatMap(ProcessHandle::of).filter(p -> isNodeProcess(p, d)).isPresent()
                                || nodeProcess(d).isPresent()) {
                            log("stopping leftover node " + d.getFileName() + "@localhost of an earlier run");
                            stopNode(sbin, d, d.getFileName() + "@localhost", env);
                        }
                        deleteRecursively(d);
                    }
                } catch (IOException e) {
                    log("cannot scan " + base + " for leftovers: " + e);
                }
            }
            // nodes whose directory is gone (e.g. `mvn clean` after a killed run): no cookie left, so by signal
            ProcessHandle.allProcesses().filter(p -> homeOf(p).map(h -> h.startsWith(base.toString() + "/")).orElse(false))
                    .forEach(p -> {
                        Path d = Paths.get(homeOf(p).get());
                        Matcher m = NODE_DIR.matcher(d.getFileName().toString());
                        if (m.matches() && !Files.exists(d) && !ownerAlive(d, Long.parseLong(m.group(1)))) {
                            log("stopping orphaned node " + d.getFileName() + " (pid " + p.pid() + ", files gone)");
                            p.destroy();
                            if (!awaitExit(p, Duration.ofSeconds(15))) {
                                p.destroyForcibly();
                            }
                        }
                    });
        }

        static boolean ownerAlive(Path dir, long ownerPid) {
            Optional<ProcessHandle> owner = ProcessHandle.of(ownerPid).filter(ProcessHandle::isAlive);
            if (owner.isEmpty()) {
                return false;
            }
            try { // a recycled pid is not the owner
                String[] recorded = Files.readString(dir.resolve("owner")).trim().split(" ");
                Optional<Instant> started = owner.get().info().startInstant();
                return recorded.length < 2 || recorded[1].equals("?") || started.isEmpty()
                        || recorded[1].equals(started.get().toString());
            } catch (IOException e) {
                return true;
            }
        }

        /** The Erlang VM running with HOME=dir, if any. */
        static Optional<ProcessHandle> nodeProcess(Path dir) {
            return ProcessHandle.allProcesses().filter(p -> isNodeProcess(p, dir)).findFirst();
        }

        /** An Erlang VM with HOME=dir; any Erlang VM when the platform hides command lines. */
        static boolean isNodeProcess(ProcessHandle p, Path dir) {
            ProcessHandle.Info info = p.info();
            if (!info.command().map(c -> c.contains("beam")).orElse(false)) {
                return false;
            }
            if (info.arguments().isEmpty() && info.commandLine().isEmpty()) {
                return true; // cannot tell
            }
            return homeOf(p).map(h -> h.equals(dir.toString())).orElse(false);
        }

        /** The {@code -home} argument erlexec passes to every Erlang VM (with HOME=dir for our nodes). */
        static Optional<String> homeOf(ProcessHandle p) {
            ProcessHandle.Info info = p.info();
            if (!info.command().map(c -> c.contains("beam")).orElse(false)) {
                return Optional.empty();
            }
            // arguments() is empty when the JDK cannot read the whole command line; commandLine() then still is
            // (our directories hold no spaces: see NODE_DIR)
            String[] args = info.arguments()
                    .or(() -> info.commandLine().map(line -> line.split(" ")))
                    .orElse(new String[0]);
            for (int i = 0; i + 1 < args.length; i++) {
                if (args[i].equals("-home")) {
                    return Optional.of(args[i + 1]);
                }
            }
            return Optional.empty();
        }

        private IllegalStateException failure(String what) {
            StringBuilder message = new StringBuilder("RabbitMQ node " + nodeName + " did not start: " + what
                    + " (files in " + dir + ")");
            List<Path> logs = new ArrayList<>();
            logs.add(dir.resolve("startup.log"));
            logs.add(dir.resolve("rabbitmq.conf"));
            if (Files.exists(dir.resolve("rabbitmqctl.log"))) {
                logs.add(dir.resolve("rabbitmqctl.log"));
            }
            try (Stream<Path> files = Files.list(dir.resolve("log"))) {
                files.filter(f -> f.toString().endsWith(".log")).sorted().forEach(logs::add);
            } catch (IOException ignored) {
                // no log dir yet
            }
            for (Path log : logs) {
                message.append("\n--- ").append(log).append(":\n").append(excerpt(log));
            }
            String text = message.toString();
            stop();
            return text.toLowerCase(Locale.ROOT).contains("eaddrinuse") ? new PortClash(text)
                    : new IllegalStateException(text);
        }

        private int run(List<String> command, Path output, Duration timeout) {
            return run(command, env, output, timeout);
        }

        /**
         * Starts the command in the directory of output (where an Erlang VM drops erl_crash.dump), with only our
         * RABBITMQ_* variables, stdin closed, stdout+stderr appended to output.
         */
        static Process launch(List<String> command, Map<String, String> env, Path output) {
            ProcessBuilder builder = new ProcessBuilder(command);
            builder.directory(output.getParent().toFile());
            builder.environment().keySet().removeIf(k -> k.startsWith("RABBITMQ_"));
            builder.environment().putAll(env);
            builder.redirectErrorStream(true);
            builder.redirectOutput(ProcessBuilder.Redirect.appendTo(output.toFile()));
            try {
                Process process = builder.start();
                process.getOutputStream().close();
                return process;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot run " + command, e);
            }
        }

        static int run(List<String> command, Map<String, String> env, Path output, Duration timeout) {
            try {
                Process process = launch(command, env, output);
                if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    process.destroyForcibly();
                    return -1;
                }
                return process.exitValue();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while running " + command, e);
            }
        }
    }

    /** The node could not bind a port picked as free (another process took it in the meantime). */
    private static final class PortClash extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        PortClash(String message) {
            super(message);
        }
    }

    // ------------------------------------------------------------------ helpers

    private static Path projectDir() {
        String basedir = System.getProperty("basedir"); // set by Surefire
        if (basedir != null && Files.isDirectory(Paths.get(basedir))) {
            return Paths.get(basedir);
        }
        return Paths.get(System.getProperty("user.dir"));
    }

    /**
     * Distinct free loopback ports, none in 35672-35682 (the range RabbitMQ CLI tools listen on).
     */
    private static int[] freePorts(int count) throws IOException {
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            int[] ports = new int[count];
            int found = 0;
            while (found < count) {
                ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"));
                sockets.add(socket);
                int port = socket.getLocalPort();
                if (port < 35672 || port > 35682) {
                    ports[found++] = port;
                }
            }
            return ports;
        } finally {
            for (ServerSocket socket : sockets) {
                socket.close();
            }
        }
    }

    private static void addShutdownHook(Runnable action) {
        try {
            Runtime.getRuntime().addShutdownHook(new Thread(action, "eventline-test-broker-stop"));
        } catch (IllegalStateException e) {
            // the JVM is already shutting down
        }
    }

    private static Optional<Long> readPid(Path dir) {
        try {
            return Optional.of(Long.parseLong(Files.readString(dir.resolve("pid")).trim()));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    private static boolean awaitExit(ProcessHandle process, Duration timeout) {
        try {
            process.onExit().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (TimeoutException e) {
            return !process.isAlive();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return !process.isAlive();
        } catch (Exception e) {
            return !process.isAlive();
        }
    }

    private static void deleteRecursively(Path path) {
        if (!Files.exists(path)) {
            return;
        }
        try (Stream<Path> files = Files.walk(path)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> {
                try {
                    Files.deleteIfExists(f);
                } catch (IOException ignored) {
                    // best effort
                }
            });
        } catch (IOException e) {
            log("cannot delete " + path + ": " + e);
        }
    }

    /** The whole file when short, else its first 20 lines (where the cause usually is) and its last 40. */
    private static String excerpt(Path file) {
        try {
            List<String> all = Files.readAllLines(file, StandardCharsets.UTF_8);
            if (all.size() <= 70) {
                return String.join("\n", all);
            }
            return String.join("\n", all.subList(0, 20)) + "\n[... " + (all.size() - 60) + " lines ...]\n"
                    + String.join("\n", all.subList(all.size() - 40, all.size()));
        } catch (IOException | UncheckedIOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    private static void pause(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private static String[] credentials(String rawUserInfo) {
        if (rawUserInfo == null || rawUserInfo.isEmpty()) {
            return new String[] {"guest", "guest"};
        }
        int colon = rawUserInfo.indexOf(':');
        String user = colon < 0 ? rawUserInfo : rawUserInfo.substring(0, colon);
        String password = colon < 0 ? "" : rawUserInfo.substring(colon + 1);
        return new String[] {decode(user), decode(password)};
    }

    private static String env(String name) {
        String value = System.getenv(name);
        return value == null || value.isBlank() ? null : value.trim();
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static String encodePathSegment(String s) {
        return encode(s).replace("*", "%2A");
    }

    private static String decode(String s) {
        return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    private static String stripTrailingSlash(String url) {
        return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }

    /** The URL without its password. */
    static String redact(String url) {
        return url.replaceFirst("(//[^:/@]*:)[^@/]*@", "$1***@");
    }

    private static void log(String message) {
        System.err.println(LOG_PREFIX + message);
    }
}
