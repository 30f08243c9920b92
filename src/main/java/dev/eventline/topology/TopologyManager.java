package dev.eventline.topology;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import org.jboss.logging.Logger;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ShutdownSignalException;

import dev.eventline.broker.Broker;
import dev.eventline.config.FunctionDescription;

/**
 * Declares a function's topology on the broker, or (declaration off) verifies it, and reports every
 * difference between the broker and the description. Verification never creates anything: it checks that
 * each exchange and queue exists (passive declare) and then re-declares existing ones with the described
 * type and arguments, which the broker accepts only when they are equivalent; its refusal names the
 * differing argument. A least-privileged broker user (Terraform's: it may not configure what Terraform owns)
 * is refused that re-declare: verification then checks existence only, says so once, and leaves the arguments
 * to whoever provisioned them. Bindings cannot be read over AMQP: declaration (idempotent) creates them,
 * verification reports them as unchecked.
 */
public final class TopologyManager {

    private static final Logger LOG = Logger.getLogger(TopologyManager.class);

    private final Names names;

    public TopologyManager(Names names) {
        this.names = names;
    }

    /** @return differences between the broker and the description; empty when they agree */
    public List<String> apply(Connection connection, FunctionDescription fn, boolean declare) throws IOException {
        TopologySpec spec = TopologySpec.of(fn, names);
        List<String> differences = new ArrayList<>();
        int unchecked = 0;
        for (TopologySpec.Exchange e : spec.exchanges()) {
            if (!declare && !exists(connection, ch -> ch.exchangeDeclarePassive(e.name()))) {
                differences.add("exchange '" + e.name() + "' is missing");
                continue;
            }
            unchecked += check(connection, differences, declare, "exchange '" + e.name() + "'",
                    ch -> ch.exchangeDeclare(e.name(), e.type(), true, false, null));
        }
        for (TopologySpec.Queue q : spec.queues()) {
            if (!declare && !exists(connection, ch -> ch.queueDeclarePassive(q.name()))) {
                differences.add("queue '" + q.name() + "' is missing");
                continue;
            }
            unchecked += check(connection, differences, declare, "queue '" + q.name() + "'",
                    ch -> ch.queueDeclare(q.name(), true, false, false, q.arguments()));
        }
        if (unchecked > 0) {
            LOG.warnf("function %s: %d exchanges and queues exist; their types and arguments were not compared, as "
                    + "this broker user may not configure them (least privilege: whoever provisioned them, e.g. "
                    + "Terraform, owns them)", fn.name(), unchecked);
        }
        if (declare) {
            for (TopologySpec.Binding b : spec.bindings()) {
                check(connection, differences, true, "binding " + b.exchange() + " -> " + b.queue(),
                        ch -> ch.queueBind(b.queue(), b.exchange(), b.routingKey(), b.arguments()));
            }
        } else {
            LOG.debugf("function %s: %d bindings not verified (AMQP cannot list bindings)", fn.name(),
                    spec.bindings().size());
        }
        for (String d : differences) {
            LOG.errorf("topology of function %s (%s) differs from the broker: %s", fn.name(), fn.source(), d);
        }
        return differences;
    }

    /**
     * Deletes every exchange and queue of the function's topology, with the events they hold (for tests and
     * tooling that own a prefix; the runtime never calls it).
     */
    public void delete(Connection connection, FunctionDescription fn) throws IOException {
        TopologySpec spec = TopologySpec.of(fn, names);
        Channel channel = connection.createChannel();
        try {
            for (TopologySpec.Queue q : spec.queues()) {
                channel.queueDelete(q.name());
            }
            for (TopologySpec.Exchange e : spec.exchanges()) {
                channel.exchangeDelete(e.name());
            }
        } finally {
            Broker.closeQuietly(channel);
        }
    }

    private interface Operation {
        void run(Channel channel) throws IOException;
    }

    private record Refusal(int code, String reason) {
    }

    private static boolean exists(Connection connection, Operation op) throws IOException {
        return refusal(connection, op) == null;
    }

    /** @return 1 when verification could not compare (the user may not re-declare), else 0 */
    private static int check(Connection connection, List<String> differences, boolean declare, String what,
            Operation op) throws IOException {
        Refusal refusal = refusal(connection, op);
        if (refusal == null) {
            return 0;
        }
        if (!declare && refusal.code() == AMQP.ACCESS_REFUSED) {
            return 1;
        }
        differences.add(what + ": " + refusal.reason());
        return 0;
    }

    /** Runs one operation on a channel of its own (a refusal closes the channel); @return the broker's refusal */
    private static Refusal refusal(Connection connection, Operation op) throws IOException {
        Channel channel = connection.createChannel();
        try {
            op.run(channel);
            return null;
        } catch (IOException e) {
            if (e.getCause() instanceof ShutdownSignalException s && !s.isHardError()) {
                return new Refusal(Broker.channelReplyCode(s), Broker.reason(s));
            }
            throw e;
        } finally {
            Broker.closeQuietly(channel);
        }
    }
}
