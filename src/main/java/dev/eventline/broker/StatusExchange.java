package dev.eventline.broker;

import java.io.IOException;
import java.util.Map;
import java.util.function.Consumer;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;

/**
 * The status exchange carries every instance's {@link ProgressReport}s: a durable fanout exchange (the
 * listeners' bindings, recovered by the client, find it again after a broker restart). Gates read it for
 * drain rates and lag, instances of a function for who runs it.
 */
public final class StatusExchange {

    private static final Logger LOG = Logger.getLogger(StatusExchange.class);

    private StatusExchange() {
    }

    public static void declare(Channel channel, String exchange) throws IOException {
        channel.exchangeDeclare(exchange, "fanout", true, false, null);
    }

    /**
     * Listens on a queue of the connection's own (exclusive, auto-deleted, bounded: old reports make room
     * for new ones); unreadable reports are skipped.
     */
    public static void subscribe(Connection connection, String exchange, ObjectMapper json,
            Consumer<ProgressReport> listener) throws IOException {
        Channel ch = connection.createChannel();
        try {
            // usually there already (declared at start-up, or provisioned): a passive check needs no configure
            // permission, so a least-privileged broker user can subscribe
            ch.exchangeDeclarePassive(exchange);
        } catch (IOException missing) {
            ch = connection.createChannel(); // the failed check closed the first channel
            declare(ch, exchange);
        }
        String queue = ch.queueDeclare("", false, true, true,
                Map.of("x-max-length", 10_000, "x-overflow", "drop-head")).getQueue();
        ch.queueBind(queue, exchange, "");
        ch.basicConsume(queue, true, (tag, delivery) -> {
            try {
                listener.accept(json.readValue(delivery.getBody(), ProgressReport.class));
            } catch (IOException | RuntimeException e) {
                LOG.debugf("unreadable progress report: %s", e);
            }
        }, tag -> { });
    }
}
