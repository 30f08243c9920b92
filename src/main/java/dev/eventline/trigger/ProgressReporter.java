package dev.eventline.trigger;

import java.io.IOException;
import java.util.List;
import java.util.function.Supplier;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.AMQP;

import dev.eventline.broker.FunctionProgress;
import dev.eventline.broker.ProgressReport;
import dev.eventline.config.FunctionDescription;
import dev.eventline.topology.Names;

/**
 * Publishes this instance's progress for one function to the status exchange (not persistent, not confirmed:
 * a lost report is replaced by the next one). Gates derive drain rates and lag from these reports, and
 * instances of the function learn from them who runs it. Without a session nothing is sent, so the others
 * stop counting this instance and take its partitions, which its lost session released.
 */
final class ProgressReporter {

    private static final Logger LOG = Logger.getLogger(ProgressReporter.class);
    private static final AMQP.BasicProperties PROPERTIES = new AMQP.BasicProperties.Builder()
            .contentType("application/json").deliveryMode(1).expiration("5000").build();

    private final FunctionDescription fn;
    private final String instance;
    private final Names names;
    private final ObjectMapper json;
    private final FunctionProgress progress;
    private final Supplier<List<Integer>> owned;
    /** The session reports go out on; null while there is none. */
    private volatile ConsumerSession session;
    private volatile boolean left;

    ProgressReporter(FunctionDescription fn, String instance, Names names, ObjectMapper json,
            FunctionProgress progress, Supplier<List<Integer>> owned) {
        this.fn = fn;
        this.instance = instance;
        this.names = names;
        this.json = json;
        this.progress = progress;
        this.owned = owned;
    }

    /** Reports go out on this session from now on (null: none until the next). */
    void on(ConsumerSession current) {
        session = current;
    }

    /** @return whether reports have a session whose connections are open */
    boolean connected() {
        ConsumerSession s = session;
        return s != null && s.isOpen();
    }

    /** The regular report; none after {@link #leaving()}, which a late one must not follow. */
    void report() {
        if (!left) {
            send(false);
        }
    }

    /** The last report: this instance is leaving, its partitions are about to be free. */
    void leaving() {
        left = true;
        send(true);
    }

    private void send(boolean leaving) {
        ConsumerSession s = session;
        if (s == null) {
            return;
        }
        try {
            List<Integer> indexes = owned.get();
            byte[] body = json.writeValueAsBytes(new ProgressReport(fn.name(), instance, progress.completedTotal(),
                    progress.oldestInHand(), System.currentTimeMillis(), indexes.size(), leaving, progress.window(),
                    progress.callMicros(), indexes.stream()
                            .map(i -> progress.partition(i, names.partition(fn.name(), i))).toList()));
            s.report(names.statusExchange(), PROPERTIES, body);
        } catch (IOException | RuntimeException e) {
            LOG.debugf("function %s: progress report not sent: %s", fn.name(), e);
        }
    }
}
