package dev.eventline.testsupport;

import static dev.eventline.testsupport.Support.log;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.testcontainers.DockerClientFactory;
import org.testcontainers.rabbitmq.RabbitMQContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * The Testcontainers broker. Kept apart so that a missing Testcontainers jar only fails here (LinkageError), not in
 * {@link TestBroker}.
 */
public final class DockerBroker {

    /** The broker the tests run on a container engine, and the one the Kubernetes manifests pin. */
    public static final String IMAGE = "rabbitmq:3.13.7-management";

    private DockerBroker() {
    }

    static boolean dockerAvailable() {
        return DockerClientFactory.instance().isDockerAvailable();
    }

    /** Starts a container, stopped by {@link TestBroker#stop()} or at JVM exit. */
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
}
