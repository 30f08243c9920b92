package dev.eventline.testsupport;

import java.nio.file.Path;

import org.junit.jupiter.api.Assumptions;

/**
 * A node of one test's own, beside the JVM's shared broker, for what the shared one must not be changed for
 * (a TLS listener that requires client certificates). Needs the installed rabbitmq-server: without it the
 * calling test is skipped, and says so in the build's output.
 */
public final class PrivateNode implements AutoCloseable {

    private final LocalNode node;

    private PrivateNode(LocalNode node) {
        this.node = node;
    }

    /** @param extraConf lines added to the node's rabbitmq.conf */
    public static PrivateNode start(String extraConf) {
        Path sbin = RabbitmqInstall.findSbin().orElse(null);
        if (sbin == null) {
            Support.log("SKIPPED: the test needs a node of its own from the installed rabbitmq-server, and none is "
                    + "installed (apt-get install rabbitmq-server)");
        }
        Assumptions.assumeTrue(sbin != null, "needs an installed rabbitmq-server");
        return new PrivateNode(LocalNode.startNode(sbin, extraConf));
    }

    /** Free loopback ports, for listeners given in {@code extraConf}. */
    public static int[] freePorts(int count) throws java.io.IOException {
        return Ports.freePorts(count);
    }

    public int amqpPort() {
        return node.config().amqpPort();
    }

    @Override
    public void close() {
        node.stop();
    }
}
