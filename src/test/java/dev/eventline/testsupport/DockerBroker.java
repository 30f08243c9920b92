package dev.eventline.testsupport;

import static dev.eventline.testsupport.Support.log;

import java.io.IOException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.testcontainers.DockerClientFactory;
import org.testcontainers.rabbitmq.RabbitMQContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * The Testcontainers broker. Kept apart so that a missing Testcontainers jar only fails here (LinkageError), not in
 * {@link TestBroker}.
 */
final class DockerBroker {

    static final String IMAGE = "rabbitmq:3.13-management";

    private DockerBroker() {
    }

    static boolean dockerAvailable() {
        return DockerClientFactory.instance().isDockerAvailable();
    }

    /**
     * Starts a container with the consistent-hash plugin enabled, stopped by {@link TestBroker#stop()} or at JVM
     * exit.
     */
    static TestBroker start() {
        log("Docker answers: starting a Testcontainers " + IMAGE + " container");
        long t0 = System.nanoTime();
        RabbitMQContainer container = new RabbitMQContainer(DockerImageName.parse(IMAGE));
        container.start();
        AtomicBoolean done = new AtomicBoolean();
        Runnable stop = () -> {
            if (done.compareAndSet(false, true)) {
                log("stopping container " + container.getContainerId());
                container.stop();
            }
        };
        Support.addShutdownHook(stop);
        enableConsistentHash(container, stop);
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        String user = container.getAdminUsername();
        String password = container.getAdminPassword();
        String amqp = "amqp://" + Urls.encode(user) + ":" + Urls.encode(password) + "@" + container.getHost() + ":"
                + container.getAmqpPort() + "/%2F";
        String management = container.getHttpUrl();
        log("container " + container.getContainerId() + " up in " + ms + " ms: amqp port "
                + container.getAmqpPort() + ", management " + management);
        return new TestBroker(amqp, new ManagementApi(management, user, password),
                "Testcontainers " + IMAGE + " container " + container.getContainerId() + " ("
                        + Urls.redact(amqp) + ", management " + management + "), started in " + ms + " ms",
                stop);
    }

    /** The 2.x RabbitMQContainer has no withPluginsEnabled: enable it on the running node (on failure: stop). */
    private static void enableConsistentHash(RabbitMQContainer container, Runnable stop) {
        try {
            var result = container.execInContainer("rabbitmq-plugins", "enable", "rabbitmq_consistent_hash_exchange");
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
    }
}
